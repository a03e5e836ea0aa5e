using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>
/// The MP configuration table (Intel MultiProcessor Specification 1.4, 4.2 and 4.3): one processor entry
/// per CPU (APIC ID = index, CPU 0 the bootstrap processor), the ISA bus, the I/O APIC (ID = number of CPUs),
/// the ISA interrupts wired as the MADT's overrides say (IRQ 0 on pin 2, the 8259A's ExtINT on pin 0, IRQ 2,
/// the cascade, nowhere, the SCI on IRQ 9 level-triggered) and LINT0 = ExtINT, LINT1 = NMI on every local APIC.
/// </summary>
public static class MpConfigurationTable
{
    public const string Signature = "PCMP";
    public const int HeaderLength = 44;
    public const int BaseTableLengthOffset = 4;
    public const int SpecRevOffset = 6;
    public const int ChecksumOffset = 7;
    public const int OemIdOffset = 8;
    public const int ProductIdOffset = 16;
    public const int EntryCountOffset = 34;
    public const int LocalApicAddressOffset = 36;

    public const byte TypeProcessor = 0;
    public const byte TypeBus = 1;
    public const byte TypeIoApic = 2;
    public const byte TypeIoInterruptAssignment = 3;
    public const byte TypeLocalInterruptAssignment = 4;

    public const int ProcessorEntryLength = 20;
    public const int OtherEntryLength = 8;

    public const byte CpuEnabled = 1;
    public const byte CpuBootstrapProcessor = 2;

    /// <summary>An integrated xAPIC (the version QEMU's local APIC reports) and the 82093AA I/O APIC.</summary>
    public const byte LocalApicVersion = 0x14;
    public const byte IoApicVersion = 0x11;

    public const byte InterruptTypeInt = 0;
    public const byte InterruptTypeNmi = 1;
    public const byte InterruptTypeExtInt = 3;

    /// <summary>I/O interrupt flags: polarity bits 0–1 and trigger mode bits 2–3 (01b active high / edge, 11b active low / level).</summary>
    public const ushort FlagsConforming = 0;
    public const ushort FlagsLevelActiveHigh = 0b01 | 0b11 << 2;

    public const byte IsaBusId = 0;
    public const byte AllLocalApics = 0xFF;
    public const string OemId = "SIMPC   ";
    public const string ProductId = "SIM PC      ";


    /// <summary>The ISA IRQs with an I/O interrupt entry: all but IRQ 2, the cascade input, which no device drives.</summary>
    public static IEnumerable<int> IsaIrqs => Enumerable.Range(0, 16).Where(irq => irq != 2);

    public static byte[] Build(int cpus, uint cpuSignature, uint featureFlags)
    {
        if (cpus is < 1 or > 254) throw new ArgumentOutOfRangeException(nameof(cpus), "Local and I/O APIC IDs must fit below 0xFF.");
        var entries = new List<byte[]>();
        for (var i = 0; i < cpus; i++)
        {
            var e = new byte[ProcessorEntryLength];
            e[0] = TypeProcessor;
            e[1] = (byte)i;
            e[2] = LocalApicVersion;
            e[3] = (byte)(CpuEnabled | (i == 0 ? CpuBootstrapProcessor : 0));
            BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), cpuSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(8), featureFlags);
            entries.Add(e);
        }
        var bus = new byte[OtherEntryLength];
        bus[0] = TypeBus;
        bus[1] = IsaBusId;
        Encoding.ASCII.GetBytes("ISA   ", bus.AsSpan(2));
        entries.Add(bus);

        var ioApic = new byte[OtherEntryLength];
        ioApic[0] = TypeIoApic;
        ioApic[1] = ChipsetLayout.IoApicId(cpus);
        ioApic[2] = IoApicVersion;
        ioApic[3] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(ioApic.AsSpan(4), (uint)ChipsetLayout.IoApicBase);
        entries.Add(ioApic);

        // Virtual wire through the I/O APIC (MP spec 3.6.2.2): the 8259A's INTR on pin 0.
        entries.Add(Assignment(TypeIoInterruptAssignment, InterruptTypeExtInt, FlagsConforming, 0, ChipsetLayout.IoApicId(cpus), 0));
        foreach (var irq in IsaIrqs)
        {
            var flags = irq == ChipsetLayout.SciIrq ? FlagsLevelActiveHigh : FlagsConforming;
            entries.Add(Assignment(TypeIoInterruptAssignment, InterruptTypeInt, flags, (byte)irq, ChipsetLayout.IoApicId(cpus), (byte)ChipsetLayout.GsiOfIsaIrq(irq)));
        }
        entries.Add(Assignment(TypeLocalInterruptAssignment, InterruptTypeExtInt, FlagsConforming, 0, AllLocalApics, 0));
        entries.Add(Assignment(TypeLocalInterruptAssignment, InterruptTypeNmi, FlagsConforming, 0, AllLocalApics, 1));

        var length = HeaderLength + entries.Sum(e => e.Length);
        var table = new byte[length];
        var s = table.AsSpan();
        Encoding.ASCII.GetBytes(Signature, s);
        BinaryPrimitives.WriteUInt16LittleEndian(s[BaseTableLengthOffset..], (ushort)length);
        s[SpecRevOffset] = MpFloatingPointer.SpecRev;
        Encoding.ASCII.GetBytes(OemId, s.Slice(OemIdOffset, 8));
        Encoding.ASCII.GetBytes(ProductId, s.Slice(ProductIdOffset, 12));
        BinaryPrimitives.WriteUInt16LittleEndian(s[EntryCountOffset..], (ushort)entries.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(s[LocalApicAddressOffset..], (uint)ChipsetLayout.LocalApicBase);
        var at = HeaderLength;
        foreach (var e in entries)
        {
            e.CopyTo(s[at..]);
            at += e.Length;
        }
        TableChecksum.Fix(s, ChecksumOffset);
        return table;
    }

    private static byte[] Assignment(byte type, byte interruptType, ushort flags, byte sourceIrq, byte destinationApic, byte destinationPin)
    {
        var e = new byte[OtherEntryLength];
        e[0] = type;
        e[1] = interruptType;
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(2), flags);
        e[4] = IsaBusId;
        e[5] = sourceIrq;
        e[6] = destinationApic;
        e[7] = destinationPin;
        return e;
    }
}
