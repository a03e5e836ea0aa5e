using System.Buffers.Binary;
using System.Text;
using Sim.Platform.Firmware;

namespace Sim.Platform.Tests.Firmware;

/// <summary>fw_cfg through port I/O on the machine's bus, against QEMU's docs/specs/fw_cfg.rst.</summary>
[TestClass]
public sealed class FwCfgDeviceTests
{
    private const ushort Selector = 0x510, Data = 0x511, DmaHigh = 0x514, DmaLow = 0x518;
    private const ulong Access = 0x300000, Target = 0x301000;

    private static Machine Create(int cpus = 2, ulong memory = 128UL << 20) =>
        new(new MachineConfig { Cpus = cpus, MemoryBytes = memory });

    private static byte[] ReadItem(Machine m, ushort key, int length)
    {
        m.Io.Write(Selector, 2, key);
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)m.Io.Read(Data, 1);
        return bytes;
    }

    /// <summary>Writes an FWCfgDmaAccess at <see cref="Access"/> and starts it; returns the control word the device wrote back.</summary>
    private static uint Dma(Machine m, uint control, uint length, ulong address)
    {
        var access = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(access, control);
        BinaryPrimitives.WriteUInt32BigEndian(access.AsSpan(4), length);
        BinaryPrimitives.WriteUInt64BigEndian(access.AsSpan(8), address);
        m.Memory.WriteBytes(Access, access);
        m.Io.Write(DmaHigh, 4, BinaryPrimitives.ReverseEndianness((uint)(Access >> 32)));
        m.Io.Write(DmaLow, 4, BinaryPrimitives.ReverseEndianness((uint)Access));
        return BinaryPrimitives.ReverseEndianness((uint)m.Memory.Read(Access, 4));
    }

    [TestMethod]
    public void TraditionalInterfaceReadsTheSignatureIdCpusAndRam()
    {
        using var m = Create(cpus: 3, memory: 96UL << 20);
        Assert.AreEqual("QEMU", Encoding.ASCII.GetString(ReadItem(m, 0x00, 4)));
        Assert.AreEqual(3u, BinaryPrimitives.ReadUInt32LittleEndian(ReadItem(m, 0x01, 4)), "traditional | DMA");
        Assert.AreEqual((ushort)3, BinaryPrimitives.ReadUInt16LittleEndian(ReadItem(m, 0x05, 2)));
        Assert.AreEqual((ushort)3, BinaryPrimitives.ReadUInt16LittleEndian(ReadItem(m, 0x0F, 2)));
        Assert.AreEqual(96UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(ReadItem(m, 0x03, 8)));
        CollectionAssert.AreEqual(new byte[16], ReadItem(m, 0x02, 16), "UUID");
        Assert.AreEqual((ushort)1, BinaryPrimitives.ReadUInt16LittleEndian(ReadItem(m, 0x04, 2)), "NOGRAPHIC, as QEMU's -nographic");
    }

    [TestMethod]
    public void SelectRewindsReadsPastTheEndAndUnknownKeysAreZeroWritesAreIgnored()
    {
        using var m = Create();
        m.Io.Write(Selector, 2, 0);
        Assert.AreEqual((uint)'Q', m.Io.Read(Data, 1));
        m.Io.Write(Data, 1, 0x55);
        Assert.AreEqual((uint)'E', m.Io.Read(Data, 1), "a data write neither stores nor advances");
        m.Io.Write(Selector, 2, 0);
        Assert.AreEqual((uint)'Q', m.Io.Read(Data, 1), "selecting again starts over");
        CollectionAssert.AreEqual(new byte[] { (byte)'Q', (byte)'E', (byte)'M', (byte)'U', 0, 0 }, ReadItem(m, 0, 6));
        CollectionAssert.AreEqual(new byte[4], ReadItem(m, 0x1234, 4), "no such item");
        Assert.AreEqual(0xFFFFFFFFu, m.Io.Read(0x512, 4), "ports 512h–513h belong to nobody");
    }

    [TestMethod]
    public void DmaAddressRegisterReadsAsTheDmaSignature()
    {
        using var m = Create();
        var high = BinaryPrimitives.ReverseEndianness(m.Io.Read(DmaHigh, 4));
        var low = BinaryPrimitives.ReverseEndianness(m.Io.Read(DmaLow, 4));
        Assert.AreEqual(0x51454D5520434647UL, (ulong)high << 32 | low, "\"QEMU CFG\"");
        Assert.AreEqual((uint)'Q', m.Io.Read(DmaHigh, 1));
    }

    [TestMethod]
    public void DmaSelectsReadsSkipsAndZeroFillsPastTheEnd()
    {
        using var m = Create(cpus: 4, memory: 64UL << 20);
        Assert.AreEqual(0u, Dma(m, 0x0005_0000 | 0x08 | 0x02, 2, Target));
        Assert.AreEqual(4UL, m.Memory.Read(Target, 2));
        Assert.AreEqual(0u, Dma(m, 0x0000_0000 | 0x08 | 0x04, 1, 0));
        m.Memory.Write(Target, 8, ulong.MaxValue);
        Assert.AreEqual(0u, Dma(m, 0x02, 5, Target));
        CollectionAssert.AreEqual("EMU\0\0"u8.ToArray(), m.Bytes(Target, 5), "skip advanced, the read ran past the end as zeros");
        Assert.AreEqual(0xFFUL, m.Memory.Read(Target + 5, 1), "nothing beyond the length");
        Assert.AreEqual(0u, Dma(m, 0, 4, Target), "no operation: nothing happens");
        Assert.AreEqual(1u, Dma(m, 0x0000_0000 | 0x08 | 0x10, 4, Target), "fw_cfg items are read-only: a DMA write fails");
        Assert.AreEqual(1u, Dma(m, 0x0005_0000 | 0x08 | 0x02, 2, m.Memory.RamSize), "a target outside RAM is an error");
    }

    [TestMethod]
    public void FileDirectoryListsTheFilesSortedWithTheirSizesAndSelectors()
    {
        using var m = Create();
        var count = BinaryPrimitives.ReadUInt32BigEndian(ReadItem(m, 0x19, 4));
        var directory = ReadItem(m, 0x19, 4 + (int)count * 64);
        var names = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var e = directory.AsSpan(4 + 64 * i, 64);
            var name = Encoding.ASCII.GetString(e[8..]).TrimEnd('\0');
            names.Add(name);
            var size = BinaryPrimitives.ReadUInt32BigEndian(e);
            var select = BinaryPrimitives.ReadUInt16BigEndian(e[4..]);
            Assert.AreEqual(0x20 + i, select, name);
            Assert.AreEqual((ushort)0, BinaryPrimitives.ReadUInt16BigEndian(e[6..]), "reserved");
            var viaDma = new byte[size];
            Assert.AreEqual(0u, Dma(m, (uint)select << 16 | 0x08 | 0x02, size, Target));
            m.Memory.ReadBytes(Target, viaDma);
            CollectionAssert.AreEqual(ReadItem(m, select, (int)size), viaDma, $"{name}: DMA and the data port agree");
        }
        CollectionAssert.AreEqual(new[] { "etc/acpi/rsdp", "etc/acpi/tables", "etc/e820", "etc/table-loader" }, names);
        var e820 = ReadItem(m, 0x22, 20);
        Assert.AreEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(e820));
        Assert.AreEqual(128UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(e820.AsSpan(8)));
        Assert.AreEqual(1u, BinaryPrimitives.ReadUInt32LittleEndian(e820.AsSpan(16)));
        var rsdp = ReadItem(m, 0x20, 36);
        Assert.AreEqual("RSD PTR ", Encoding.ASCII.GetString(rsdp, 0, 8));
    }
}
