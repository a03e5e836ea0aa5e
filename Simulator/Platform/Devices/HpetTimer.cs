using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// One comparator of the <see cref="Hpet"/> (IA-PC HPET 1.0a, 2.3.8): its configuration and capability
/// register, its comparator and the period that a periodic timer adds to the comparator on each match.
/// The matches are kept as "ticks of the main counter since it was last enabled", so that a periodic
/// timer whose matches nobody would notice needs no event per period: its comparator is computed.
/// </summary>
public sealed class HpetTimer
{
    public const ulong IntTypeCnf = 1UL << 1;
    public const ulong IntEnbCnf = 1UL << 2;
    public const ulong TypeCnf = 1UL << 3;
    public const ulong PerIntCap = 1UL << 4;
    public const ulong SizeCap = 1UL << 5;
    public const ulong ValSetCnf = 1UL << 6;
    public const ulong Mode32Cnf = 1UL << 8;
    public const int IntRouteCnfShift = 9;
    public const ulong IntRouteCnfMask = 0x1FUL << IntRouteCnfShift;
    public const ulong FsbEnCnf = 1UL << 14;
    public const ulong FsbIntDelCap = 1UL << 15;
    public const int IntRouteCapShift = 32;

    internal HpetTimer(int index, bool periodicCapable, uint routeCapability, Action<int, ulong> expired)
    {
        Index = index;
        PeriodicCapable = periodicCapable;
        RouteCapability = routeCapability;
        Event = new TimerEvent($"HPET timer {index}", cycle => expired(index, cycle));
    }

    public int Index { get; }

    /// <summary>Tn_PER_INT_CAP.</summary>
    public bool PeriodicCapable { get; }

    /// <summary>Tn_INT_ROUTE_CAP: bit n set when the timer can drive I/O APIC input n.</summary>
    public uint RouteCapability { get; }

    /// <summary>The writable configuration bits (the capability bits are added when the register is read).</summary>
    internal ulong Configuration { get; set; }

    /// <summary>The comparator as of the last catch-up (in 32-bit mode only bits 0–31).</summary>
    internal ulong Comparator { get; set; } = ulong.MaxValue;

    /// <summary>The last value written to the comparator in periodic mode: what each match adds.</summary>
    internal ulong Period { get; set; }

    /// <summary>Counter ticks since the main counter was enabled at which the comparator next matches; null while the counter is halted.</summary>
    internal UInt128? NextMatch { get; set; }

    /// <summary>The tick of the last match since the counter was enabled, so that re-arming at that same tick does not match it twice.</summary>
    internal UInt128? LastMatch { get; set; }

    internal TimerEvent Event { get; }

    public ulong ConfigurationAndCapability =>
        Configuration | (PeriodicCapable ? PerIntCap : 0) | SizeCap | (ulong)RouteCapability << IntRouteCapShift;

    public bool LevelTriggered => (Configuration & IntTypeCnf) != 0;

    public bool InterruptEnabled => (Configuration & IntEnbCnf) != 0;

    public bool Periodic => (Configuration & TypeCnf) != 0;

    public bool Mode32 => (Configuration & Mode32Cnf) != 0;

    public int Route => (int)((Configuration & IntRouteCnfMask) >> IntRouteCnfShift);

    /// <summary>The bits of the main counter the comparator is matched against.</summary>
    internal ulong WidthMask => Mode32 ? 0xFFFF_FFFFUL : ulong.MaxValue;

    /// <summary>Ticks from one match to the next: the period, or once around the comparator's width.</summary>
    internal UInt128 Step => Periodic && Period != 0 ? Period : (UInt128)WidthMask + 1;
}
