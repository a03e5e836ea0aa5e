using System.Buffers.Binary;

namespace Sim.Platform.Firmware;

/// <summary>
/// The MADT (ACPI 6.5, 5.2.12) of QEMU's PC machine: one Processor Local APIC per CPU (UID = APIC ID =
/// index), the I/O APIC (ID = number of CPUs, GSI base 0), the ISA overrides IRQ 0 → GSI 2 and the SCI
/// (IRQ 9, level, active high), and the NMI on LINT1 of every processor.
/// </summary>
public static class MultipleApicDescriptionTable
{
    /// <summary>1, as QEMU's PC machine builds it (the entries used here have not changed since).</summary>
    public const byte Revision = 1;

    public const int LocalApicAddressOffset = 36;
    public const int FlagsOffset = 40;
    public const int EntriesOffset = 44;
    public const uint PcatCompat = 1;

    public const byte TypeProcessorLocalApic = 0;
    public const byte TypeIoApic = 1;
    public const byte TypeInterruptSourceOverride = 2;
    public const byte TypeLocalApicNmi = 4;

    public const int ProcessorLocalApicLength = 8;
    public const int IoApicLength = 12;
    public const int InterruptSourceOverrideLength = 10;
    public const int LocalApicNmiLength = 6;

    public const uint LocalApicEnabled = 1;

    /// <summary>MPS INTI flags (ACPI 6.5, table 5.26): polarity in bits 0–1, trigger mode in bits 2–3.</summary>
    public const ushort IntiConforming = 0;
    public const ushort IntiActiveHigh = 0b01;
    public const ushort IntiLevelTriggered = 0b11 << 2;

    public const byte AllProcessors = 0xFF;


    public static byte[] Build(int cpus)
    {
        if (cpus is < 1 or > 254) throw new ArgumentOutOfRangeException(nameof(cpus), "xAPIC IDs and the I/O APIC ID must fit below 0xFF.");
        var length = EntriesOffset + cpus * ProcessorLocalApicLength + IoApicLength + 2 * InterruptSourceOverrideLength + LocalApicNmiLength;
        var t = SystemDescriptionTableHeader.Create("APIC", length, Revision);
        var s = t.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s[LocalApicAddressOffset..], (uint)ChipsetLayout.LocalApicBase);
        BinaryPrimitives.WriteUInt32LittleEndian(s[FlagsOffset..], PcatCompat);
        var at = EntriesOffset;
        for (var i = 0; i < cpus; i++)
        {
            s[at] = TypeProcessorLocalApic;
            s[at + 1] = ProcessorLocalApicLength;
            s[at + 2] = (byte)i;
            s[at + 3] = (byte)i;
            BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 4)..], LocalApicEnabled);
            at += ProcessorLocalApicLength;
        }
        s[at] = TypeIoApic;
        s[at + 1] = IoApicLength;
        s[at + 2] = ChipsetLayout.IoApicId(cpus);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 4)..], (uint)ChipsetLayout.IoApicBase);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 8)..], 0);
        at += IoApicLength;
        at = Override(s, at, 0, IntiConforming);
        at = Override(s, at, ChipsetLayout.SciIrq, IntiActiveHigh | IntiLevelTriggered);
        s[at] = TypeLocalApicNmi;
        s[at + 1] = LocalApicNmiLength;
        s[at + 2] = AllProcessors;
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 3)..], IntiConforming);
        s[at + 5] = 1;
        return t;
    }

    private static int Override(Span<byte> s, int at, int irq, ushort flags)
    {
        s[at] = TypeInterruptSourceOverride;
        s[at + 1] = InterruptSourceOverrideLength;
        s[at + 2] = 0;
        s[at + 3] = (byte)irq;
        BinaryPrimitives.WriteUInt32LittleEndian(s[(at + 4)..], (uint)ChipsetLayout.GsiOfIsaIrq(irq));
        BinaryPrimitives.WriteUInt16LittleEndian(s[(at + 8)..], flags);
        return at + InterruptSourceOverrideLength;
    }
}
