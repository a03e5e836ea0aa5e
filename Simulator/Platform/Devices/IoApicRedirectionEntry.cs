using Sim.Platform.Apic;

namespace Sim.Platform.Devices;

/// <summary>
/// One 64-bit entry of the I/O APIC's redirection table (82093AA datasheet 3.2.4): how the interrupt
/// on one input pin becomes a message. Software sees it as registers 10h + 2·pin (bits 0–31) and
/// 11h + 2·pin (bits 32–63).
/// </summary>
public readonly record struct IoApicRedirectionEntry(ulong Value)
{
    public const ulong VectorMask = 0xFF;
    public const int DeliveryModeShift = 8;
    public const ulong DeliveryModeMask = 7UL << DeliveryModeShift;
    public const ulong DestinationModeBit = 1UL << 11;
    public const ulong DeliveryStatusBit = 1UL << 12;
    public const ulong PolarityBit = 1UL << 13;
    public const ulong RemoteIrrBit = 1UL << 14;
    public const ulong TriggerModeBit = 1UL << 15;
    public const ulong MaskBit = 1UL << 16;
    public const int DestinationShift = 56;
    public const ulong DestinationMask = 0xFFUL << DestinationShift;

    /// <summary>The bits software may write; delivery status and remote IRR are read-only, bits 17–55 reserved.</summary>
    public const ulong WritableBits = VectorMask | DeliveryModeMask | DestinationModeBit | PolarityBit | TriggerModeBit | MaskBit | DestinationMask;

    /// <summary>Only the mask bit is defined at reset (datasheet 3.2.4: "masked" after reset); QEMU clears the rest.</summary>
    public static IoApicRedirectionEntry Reset => new(MaskBit);

    public byte Vector => (byte)(Value & VectorMask);

    /// <summary>The raw 3-bit DELMOD field; 011b and 110b are reserved.</summary>
    public int DeliveryModeField => (int)((Value & DeliveryModeMask) >> DeliveryModeShift);

    public DeliveryMode DeliveryMode => (DeliveryMode)DeliveryModeField;

    public bool IsReservedDeliveryMode => DeliveryModeField is 3 or 6;

    /// <summary>DESTMOD: 1 logical, 0 physical.</summary>
    public bool LogicalDestination => (Value & DestinationModeBit) != 0;

    public bool DeliveryStatus => (Value & DeliveryStatusBit) != 0;

    /// <summary>INTPOL: 1 active low, 0 active high.</summary>
    public bool ActiveLow => (Value & PolarityBit) != 0;

    public bool RemoteIrr => (Value & RemoteIrrBit) != 0;

    /// <summary>TRIGGER MODE: 1 level, 0 edge.</summary>
    public bool LevelTriggered => (Value & TriggerModeBit) != 0;

    public bool Masked => (Value & MaskBit) != 0;

    /// <summary>
    /// Bits 56–63, all eight of them: in physical mode the 82093AA itself compares only bits 56–59 on
    /// its APIC bus, but on the system bus of xAPIC processors (and in QEMU) the whole byte is the APIC ID.
    /// </summary>
    public byte Destination => (byte)(Value >> DestinationShift);

    /// <summary>
    /// Whether the entry behaves as level-triggered, with remote IRR and EOI: only fixed and lowest
    /// priority can be; NMI, INIT, SMI and ExtINT are edge-triggered whatever the trigger mode says
    /// (datasheet 3.2.4, SDM vol. 3, 11.6.1).
    /// </summary>
    public bool EffectivelyLevel => LevelTriggered && DeliveryMode is DeliveryMode.Fixed or DeliveryMode.LowestPriority;

    public InterruptMessage ToMessage() => new(Vector, DeliveryMode, LogicalDestination, Destination, EffectivelyLevel);
}
