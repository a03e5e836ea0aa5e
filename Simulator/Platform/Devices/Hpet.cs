using Sim.Cpu.Bus;
using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// The High Precision Event Timer (IA-PC HPET specification 1.0a) in its MMIO page at
/// <see cref="ChipsetLayout.HpetBase"/>: a 64-bit main counter at 10 MHz (as QEMU's) that counts
/// simulated time while ENABLE_CNF is set, and three timers. Timer 0 can be periodic; all three are
/// 64-bit and can be forced to 32-bit mode; none has FSB delivery. A timer fires when the main counter
/// (its low 32 bits in 32-bit mode) equals its comparator, so a one-shot 32-bit timer matches again
/// every 2^32 ticks and a comparator behind the counter waits for the counter to come round (2.3.9.2.1).
/// Interrupts leave as levels on I/O APIC inputs (<see cref="GsiLevel"/>) and, under the legacy
/// replacement route, on the 8259's IRQ 0 and 8 too (<see cref="IsaIrqLevel"/>); an edge-triggered
/// interrupt is a pulse.
/// </summary>
public sealed class Hpet : IMmioDevice
{
    public const int TimerCount = 3;
    public const ulong FrequencyHz = 10_000_000;
    public const uint CounterClockPeriodFs = 100_000_000;
    public const byte RevisionId = 1;
    public const ushort VendorId = 0x8086;

    public const int GeneralCapabilitiesOffset = 0x000;
    public const int GeneralConfigurationOffset = 0x010;
    public const int GeneralInterruptStatusOffset = 0x020;
    public const int MainCounterOffset = 0x0F0;
    public const int TimerOffset = 0x100;
    public const int TimerStride = 0x20;
    public const int TimerConfigurationOffset = 0x00;
    public const int TimerComparatorOffset = 0x08;
    public const int TimerFsbRouteOffset = 0x10;

    public const ulong EnableCnf = 1UL << 0;
    public const ulong LegRtCnf = 1UL << 1;

    public const int NumTimCapShift = 8;
    public const ulong CountSizeCap = 1UL << 13;
    public const ulong LegRtCap = 1UL << 15;
    public const int VendorIdShift = 16;
    public const int CounterClockPeriodShift = 32;

    /// <summary>
    /// Tn_INT_ROUTE_CAP of every timer: I/O APIC inputs 16–23, which no ISA device uses; GSIs 2 and 8
    /// are reached through the legacy replacement route instead.
    /// </summary>
    public const uint RouteCapability = 0x00FF_0000;

    /// <summary>The legacy replacement route (2.3.5.1): timer 0 to IRQ 0 and I/O APIC input 2, timer 1 to IRQ 8 and input 8.</summary>
    public const int LegacyTimer0Irq = 0, LegacyTimer0Gsi = 2, LegacyTimer1Irq = 8, LegacyTimer1Gsi = 8;

    private const ulong TimerWritableBits = HpetTimer.IntTypeCnf | HpetTimer.IntEnbCnf | HpetTimer.TypeCnf | HpetTimer.ValSetCnf
        | HpetTimer.Mode32Cnf | HpetTimer.IntRouteCnfMask;

    private readonly MachineClock _clock;
    private readonly HpetTimer[] _timers;
    private ulong _configuration;
    private ulong _interruptStatus;
    private ulong _counterBase;
    private ulong _enableCycle;
    private ulong _lastCycle;
    private uint _assertedGsis;
    private ushort _assertedIrqs;

    public Hpet(MachineClock clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _timers = new HpetTimer[TimerCount];
        for (var i = 0; i < TimerCount; i++) _timers[i] = new HpetTimer(i, periodicCapable: i == 0, RouteCapability, OnTimerEvent);
        _lastCycle = clock.Now;
    }

    public IReadOnlyList<HpetTimer> Timers => _timers;

    /// <summary>Drives I/O APIC input <c>gsi</c> to a level; the machine wires it to the I/O APIC.</summary>
    public Action<int, bool>? GsiLevel { get; set; }

    /// <summary>Drives the 8259's IRQ <c>irq</c> (0 or 8) to a level, only under the legacy replacement route.</summary>
    public Action<int, bool>? IsaIrqLevel { get; set; }

    /// <summary>
    /// Called when LEG_RT_CNF changes. While it is set the 8254's and the MC146818's own interrupts must
    /// not reach IRQ 0 / GSI 2 and IRQ 8 / GSI 8 (2.3.5.1): the machine gates them.
    /// </summary>
    public Action<bool>? LegacyReplacementChanged { get; set; }

    public bool LegacyReplacement => (_configuration & LegRtCnf) != 0;

    public bool Enabled => (_configuration & EnableCnf) != 0;

    public ulong GeneralCapabilities =>
        RevisionId | (ulong)(TimerCount - 1) << NumTimCapShift | CountSizeCap | LegRtCap
        | (ulong)VendorId << VendorIdShift | (ulong)CounterClockPeriodFs << CounterClockPeriodShift;

    /// <summary>The main counter at the present.</summary>
    public ulong MainCounter => CounterAt(Present());

    /// <summary>
    /// Registers are 64 bits wide and taken whole by aligned 64-bit accesses or by halves by aligned
    /// 32-bit ones (2.3.1); other sizes and misaligned accesses read as 0 and are ignored, as in QEMU.
    /// </summary>
    public ulong Read(ulong address, int size)
    {
        var offset = (int)(address & 0xFFF);
        if (!Supported(offset, size)) return 0;
        var value = ReadRegister(offset & ~7);
        return size == 8 ? value : (uint)(value >> ((offset & 4) * 8));
    }

    public void Write(ulong address, int size, ulong value)
    {
        var offset = (int)(address & 0xFFF);
        if (!Supported(offset, size)) return;
        var shift = (offset & 4) * 8;
        var mask = size == 8 ? ulong.MaxValue : 0xFFFF_FFFFUL << shift;
        WriteRegister(offset & ~7, value << shift & mask, mask);
    }

    private static bool Supported(int offset, int size) => size switch
    {
        4 => (offset & 3) == 0,
        8 => (offset & 7) == 0,
        _ => false,
    };

    private ulong ReadRegister(int offset)
    {
        switch (offset)
        {
            case GeneralCapabilitiesOffset: return GeneralCapabilities;
            case GeneralConfigurationOffset: return _configuration;
            case GeneralInterruptStatusOffset:
                CatchUpAll(Present());
                return _interruptStatus;
            case MainCounterOffset: return MainCounter;
        }
        if (TimerAt(offset) is not { } timer) return 0;
        switch ((offset - TimerOffset) % TimerStride)
        {
            case TimerConfigurationOffset: return timer.ConfigurationAndCapability;
            case TimerComparatorOffset:
                CatchUp(timer, Present());
                return timer.Comparator;
            default: return 0;
        }
    }

    /// <summary>Writes the bits of <paramref name="value"/> under <paramref name="mask"/> (the half or whole register written).</summary>
    private void WriteRegister(int offset, ulong value, ulong mask)
    {
        var cycle = Present();
        switch (offset)
        {
            case GeneralConfigurationOffset: WriteConfiguration(cycle, Merge(_configuration, value, mask)); return;
            case GeneralInterruptStatusOffset: ClearStatus(cycle, value & mask); return;
            case MainCounterOffset:
                // 2.3.7: software writes the main counter only while it is halted; QEMU drops writes while it runs.
                if (!Enabled) _counterBase = Merge(_counterBase, value, mask);
                return;
        }
        if (TimerAt(offset) is not { } timer) return;
        switch ((offset - TimerOffset) % TimerStride)
        {
            case TimerConfigurationOffset: WriteTimerConfiguration(timer, cycle, value, mask); break;
            case TimerComparatorOffset: WriteComparator(timer, cycle, value, mask); break;
        }
    }

    private static ulong Merge(ulong old, ulong value, ulong mask) => (old & ~mask) | (value & mask);

    private HpetTimer? TimerAt(int offset)
    {
        if (offset < TimerOffset) return null;
        var index = (offset - TimerOffset) / TimerStride;
        return index < TimerCount ? _timers[index] : null;
    }

    private void WriteConfiguration(ulong cycle, ulong value)
    {
        value &= EnableCnf | LegRtCnf;
        var old = _configuration;
        if ((old & EnableCnf) != 0 && (value & EnableCnf) == 0)
        {
            CatchUpAll(cycle);
            _counterBase = CounterAt(cycle);
            foreach (var timer in _timers)
            {
                timer.NextMatch = null;
                timer.LastMatch = null;
            }
        }
        _configuration = value;
        if ((old & EnableCnf) == 0 && (value & EnableCnf) != 0)
        {
            _enableCycle = cycle;
            foreach (var timer in _timers)
            {
                timer.LastMatch = null;
                Arm(timer, 0);
            }
        }
        foreach (var timer in _timers) Reschedule(timer);
        UpdateLines();
        if (((old ^ value) & LegRtCnf) != 0) LegacyReplacementChanged?.Invoke(LegacyReplacement);
    }

    private void ClearStatus(ulong cycle, ulong bits)
    {
        CatchUpAll(cycle);
        bits &= _interruptStatus;
        if (bits == 0) return;
        _interruptStatus &= ~bits;
        foreach (var timer in _timers) Reschedule(timer);
        UpdateLines();
    }

    private void WriteTimerConfiguration(HpetTimer timer, ulong cycle, ulong value, ulong mask)
    {
        CatchUp(timer, cycle);
        var old = timer.Configuration;
        var writable = TimerWritableBits & mask;
        if (!timer.PeriodicCapable) writable &= ~(HpetTimer.TypeCnf | HpetTimer.ValSetCnf);
        // 2.3.8: a route the timer cannot take is not stored, so that software reads back what it got.
        var route = (int)((value & HpetTimer.IntRouteCnfMask) >> HpetTimer.IntRouteCnfShift);
        if ((timer.RouteCapability & (1u << route)) == 0) writable &= ~HpetTimer.IntRouteCnfMask;
        timer.Configuration = Merge(old, value, writable);
        if (timer.Mode32)
        {
            timer.Comparator &= 0xFFFF_FFFF;
            timer.Period &= 0xFFFF_FFFF;
        }
        // Tn_INT_STS means nothing for an edge-triggered timer (2.3.6); QEMU clears it when the type changes.
        if ((old & HpetTimer.IntTypeCnf) != 0 && !timer.LevelTriggered) _interruptStatus &= ~(1UL << timer.Index);
        if (Enabled) Arm(timer, ElapsedAt(cycle));
        Reschedule(timer);
        UpdateLines();
    }

    /// <summary>
    /// 2.3.9.2.2: in periodic mode a write sets the period that each match adds to the comparator, and
    /// the comparator itself only with Tn_VAL_SET_CNF, which then clears (the value goes to both, as on
    /// QEMU, Bochs and most chipsets). A 32-bit timer ignores writes to the upper half.
    /// </summary>
    private void WriteComparator(HpetTimer timer, ulong cycle, ulong value, ulong mask)
    {
        CatchUp(timer, cycle);
        mask &= timer.WidthMask;
        if (mask == 0) return;
        if (!timer.Periodic || (timer.Configuration & HpetTimer.ValSetCnf) != 0) timer.Comparator = Merge(timer.Comparator, value, mask);
        if (timer.Periodic) timer.Period = Merge(timer.Period, value, mask);
        timer.Configuration &= ~HpetTimer.ValSetCnf;
        if (Enabled) Arm(timer, ElapsedAt(cycle));
        Reschedule(timer);
    }

    /// <summary>The present, never earlier than a time the device has already seen (processors may lag each other).</summary>
    private ulong Present()
    {
        var now = _clock.Now;
        if (now > _lastCycle) _lastCycle = now;
        return _lastCycle;
    }

    private ulong ElapsedAt(ulong cycle) => (ulong)((UInt128)(cycle - _enableCycle) * FrequencyHz / _clock.FrequencyHz);

    private ulong CounterAt(ulong cycle) => Enabled ? unchecked(_counterBase + ElapsedAt(cycle)) : _counterBase;

    /// <summary>The first cycle at which the counter has run <paramref name="ticks"/> ticks since it was enabled, or null beyond the clock's range.</summary>
    private ulong? CycleOfElapsed(UInt128 ticks)
    {
        var cycle = _enableCycle + (ticks * _clock.FrequencyHz + FrequencyHz - 1) / FrequencyHz;
        return cycle <= ulong.MaxValue ? (ulong)cycle : null;
    }

    /// <summary>The next match at or after <paramref name="elapsed"/> ticks, unless the timer matched at exactly that tick already.</summary>
    private void Arm(HpetTimer timer, ulong elapsed)
    {
        var delta = (UInt128)(unchecked(timer.Comparator - (_counterBase + elapsed)) & timer.WidthMask);
        if (delta == 0 && timer.LastMatch == elapsed) delta = (UInt128)timer.WidthMask + 1;
        timer.NextMatch = elapsed + delta;
    }

    private void CatchUpAll(ulong cycle)
    {
        foreach (var timer in _timers) CatchUp(timer, cycle);
    }

    /// <summary>
    /// Takes the timer through its matches up to <paramref name="cycle"/>: a periodic comparator advances
    /// by one period per match, and the matches since the last catch-up count as one interrupt, the only
    /// one anybody could see (an event is queued for every match that would raise a new one).
    /// </summary>
    private void CatchUp(HpetTimer timer, ulong cycle)
    {
        if (!Enabled || timer.NextMatch is not { } next) return;
        var elapsed = ElapsedAt(cycle);
        if (elapsed < next) return;
        var step = timer.Step;
        var matches = (elapsed - next) / step + 1;
        if (timer.Periodic) timer.Comparator = unchecked(timer.Comparator + (ulong)matches * timer.Period) & timer.WidthMask;
        timer.LastMatch = next + (matches - 1) * step;
        timer.NextMatch = next + matches * step;
        Fire(timer);
    }

    private void Fire(HpetTimer timer)
    {
        if (timer.LevelTriggered)
        {
            // 2.3.8, Tn_INT_ENB_CNF: a disabled timer still sets its status bit.
            _interruptStatus |= 1UL << timer.Index;
            UpdateLines();
        }
        else if (timer.InterruptEnabled)
        {
            Pulse(timer);
        }
    }

    /// <summary>While the event runs the clock's present is its due cycle, unless a processor already touched the device later.</summary>
    private void OnTimerEvent(int index, ulong cycle)
    {
        var timer = _timers[index];
        CatchUp(timer, Present());
        Reschedule(timer);
    }

    /// <summary>Queues an event for the next match only if it would change something outside the device.</summary>
    private void Reschedule(HpetTimer timer)
    {
        var visible = Enabled && timer.NextMatch is not null && (timer.LevelTriggered
            ? (_interruptStatus & (1UL << timer.Index)) == 0
            : timer.InterruptEnabled && LinesOf(timer) is not (-1, -1));
        if (visible && CycleOfElapsed(timer.NextMatch!.Value) is { } due) _clock.Arm(timer.Event, due);
        else _clock.Cancel(timer.Event);
    }

    /// <summary>The I/O APIC input and 8259 IRQ the timer drives (-1 for none).</summary>
    private (int Gsi, int Irq) LinesOf(HpetTimer timer)
    {
        if (LegacyReplacement && timer.Index == 0) return (LegacyTimer0Gsi, LegacyTimer0Irq);
        if (LegacyReplacement && timer.Index == 1) return (LegacyTimer1Gsi, LegacyTimer1Irq);
        return ((timer.RouteCapability & (1u << timer.Route)) != 0 ? timer.Route : -1, -1);
    }

    private void UpdateLines()
    {
        uint gsis = 0;
        ushort irqs = 0;
        if (Enabled)
        {
            foreach (var timer in _timers)
            {
                if (!timer.LevelTriggered || !timer.InterruptEnabled || (_interruptStatus & (1UL << timer.Index)) == 0) continue;
                var (gsi, irq) = LinesOf(timer);
                if (gsi >= 0) gsis |= 1u << gsi;
                if (irq >= 0) irqs |= (ushort)(1 << irq);
            }
        }
        var gsiChanges = gsis ^ _assertedGsis;
        var irqChanges = (ushort)(irqs ^ _assertedIrqs);
        _assertedGsis = gsis;
        _assertedIrqs = irqs;
        for (var line = 0; gsiChanges != 0; line++, gsiChanges >>= 1)
            if ((gsiChanges & 1) != 0) GsiLevel?.Invoke(line, (gsis & (1u << line)) != 0);
        for (var line = 0; irqChanges != 0; line++, irqChanges >>= 1)
            if ((irqChanges & 1) != 0) IsaIrqLevel?.Invoke(line, (irqs & (1 << line)) != 0);
    }

    /// <summary>An edge-triggered interrupt; a line another timer holds high shows no edge.</summary>
    private void Pulse(HpetTimer timer)
    {
        var (gsi, irq) = LinesOf(timer);
        if (gsi >= 0 && (_assertedGsis & (1u << gsi)) == 0)
        {
            GsiLevel?.Invoke(gsi, true);
            GsiLevel?.Invoke(gsi, false);
        }
        if (irq >= 0 && (_assertedIrqs & (1 << irq)) == 0)
        {
            IsaIrqLevel?.Invoke(irq, true);
            IsaIrqLevel?.Invoke(irq, false);
        }
    }
}
