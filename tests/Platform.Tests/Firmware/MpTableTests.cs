namespace Sim.Platform.Tests.Firmware;

/// <summary>The MP tables in memory against the Intel MultiProcessor Specification 1.4.</summary>
[TestClass]
public sealed class MpTableTests
{
    /// <summary>MP spec 4: the EBDA's first KiB, else the last KiB of base memory, then F0000h–FFFFFh; 16-byte boundaries, checksum over the length.</summary>
    private static ulong FindFloatingPointer(Machine machine)
    {
        var ebda = (ulong)machine.Bytes(0x40E, 2).U16(0) << 4;
        var baseKiB = (ulong)machine.Bytes(0x413, 2).U16(0);
        var areas = ebda != 0 ? new[] { (ebda, 1024UL), (0xF0000UL, 0x10000UL) } : [((baseKiB - 1) * 1024, 1024UL), (0xF0000UL, 0x10000UL)];
        foreach (var (start, length) in areas)
        {
            for (var at = start; at < start + length; at += 16)
            {
                var p = machine.Bytes(at, 16);
                if (p.Ascii(0, 4) == "_MP_" && p[8] >= 1 && machine.Bytes(at, p[8] * 16).Sum(0, p[8] * 16) == 0) return at;
            }
        }
        Assert.Fail("no MP floating pointer structure");
        return 0;
    }

    [TestMethod]
    public void FloatingPointerIsInTheEbdaAndPointsAtTheConfigurationTable()
    {
        using var machine = FirmwareMachine.Create();
        var at = FindFloatingPointer(machine);
        Assert.IsTrue(at >= 0x9FC00 && at < 0xA0000, $"at 0x{at:x}");
        var p = machine.Bytes(at, 16);
        Assert.AreEqual(1, p[8], "length in 16-byte paragraphs");
        Assert.AreEqual(4, p[9], "specification revision 1.4");
        Assert.AreEqual(0, p[11], "feature byte 1: a configuration table exists");
        Assert.AreEqual(0, p[12] & 0x80, "IMCRP clear: virtual wire mode");
        var table = machine.Bytes(p.U32(4), 44);
        Assert.AreEqual("PCMP", table.Ascii(0, 4));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void ConfigurationTableListsProcessorsBusIoApicAndInterrupts(int cpus)
    {
        using var machine = FirmwareMachine.Create(cpus);
        var pointer = machine.Bytes(FindFloatingPointer(machine), 16);
        var header = machine.Bytes(pointer.U32(4), 44);
        var table = machine.Bytes(pointer.U32(4), header.U16(4));
        Assert.AreEqual(0, table.Sum(0, table.Length), "base table checksum");
        Assert.AreEqual(4, table[6], "specification revision 1.4");
        Assert.AreEqual(0xFEE00000u, table.U32(36), "local APIC address");
        Assert.AreEqual(0, table.U16(40), "no extended table");
        Assert.AreEqual(0u, table.U32(28), "no OEM table");

        var entries = new List<byte[]>();
        for (var at = 44; at < table.Length;)
        {
            var length = table[at] == 0 ? 20 : 8;
            entries.Add(table[at..(at + length)]);
            at += length;
        }
        Assert.AreEqual(table.U16(34), entries.Count, "entry count");
        CollectionAssert.AreEqual(entries.Select(e => e[0]).Order().ToList(), entries.Select(e => e[0]).ToList(), "entries sorted by type");

        machine.Processors[0].Cpuid(1, 0, out var signature, out _, out _, out var features);
        var processors = entries.Where(e => e[0] == 0).ToList();
        Assert.HasCount(cpus, processors);
        for (var i = 0; i < cpus; i++)
        {
            Assert.AreEqual(i, processors[i][1], "local APIC ID");
            Assert.AreEqual(i == 0 ? 3 : 1, processors[i][3], "EN, and BP on CPU 0");
            Assert.AreNotEqual(0, processors[i][2], "local APIC version");
            Assert.AreEqual(signature, processors[i].U32(4), "CPU signature: CPUID.1 EAX");
            Assert.AreEqual(features, processors[i].U32(8), "feature flags: CPUID.1 EDX");
        }
        var bus = entries.Single(e => e[0] == 1);
        Assert.AreEqual("ISA   ", bus.Ascii(2, 6));
        var ioApic = entries.Single(e => e[0] == 2);
        Assert.AreEqual(cpus, ioApic[1], "I/O APIC ID");
        Assert.AreEqual(1, ioApic[3] & 1, "enabled");
        Assert.AreEqual(0xFEC00000u, ioApic.U32(4));

        var io = entries.Where(e => e[0] == 3).ToList();
        Assert.IsTrue(io.All(e => e[4] == bus[1] && e[6] == cpus), "from the ISA bus to the I/O APIC");
        var extInt = io.Single(e => e[1] == 3);
        Assert.AreEqual(0, extInt[7], "ExtINT on pin 0: virtual wire");
        var ints = io.Where(e => e[1] == 0).ToDictionary(e => (int)e[5]);
        Assert.AreEqual(2, ints[0][7], "IRQ 0 on pin 2");
        foreach (var irq in new[] { 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 }) Assert.AreEqual(irq, ints[irq][7], $"IRQ {irq} on its own pin");
        Assert.IsFalse(ints.ContainsKey(2), "IRQ 2 is the cascade");
        Assert.AreEqual((ushort)0b1101, ints[9].U16(2), "the SCI: level, active high");

        var local = entries.Where(e => e[0] == 4).ToList();
        Assert.HasCount(2, local);
        Assert.AreEqual(3, local[0][1], "ExtINT");
        Assert.AreEqual(0, local[0][7], "LINT0");
        Assert.AreEqual(1, local[1][1], "NMI");
        Assert.AreEqual(1, local[1][7], "LINT1");
        Assert.IsTrue(local.All(e => e[6] == 0xFF), "every local APIC");
    }
}
