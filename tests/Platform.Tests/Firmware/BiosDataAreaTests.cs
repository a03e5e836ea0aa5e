using System.Buffers.Binary;
using Iced.Intel;
using Sim.Images;
using Sim.Images.Guests;
using Sim.Platform.Tests.Machines;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Firmware;

/// <summary>The BIOS data area and EBDA as every boot path leaves them.</summary>
[TestClass]
public sealed class BiosDataAreaTests
{
    private static IEnumerable<object[]> BootPaths() => [["BIOS boot sector"], ["Multiboot"], ["ELF64"]];

    private static BootImage Image(string path)
    {
        switch (path)
        {
            case "BIOS boot sector":
                var boot = new Assembler(16);
                boot.hlt();
                return new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00)), Description = path };
            case "Multiboot":
                return ImageLoader.Load(MultibootKernel.Create([0xF4], 0x100000), "k.elf", new ImageLoadOptions());
            default:
                return ImageLoader.Load(Elf64([0xF4], 0x100000), "k64.elf", new ImageLoadOptions());
        }
    }

    /// <summary>A minimal ELF64 executable: one PT_LOAD segment of <paramref name="code"/> at <paramref name="address"/>, entered there.</summary>
    private static byte[] Elf64(byte[] code, ulong address)
    {
        var file = new byte[0x1000 + code.Length];
        var s = file.AsSpan();
        "\x7F"u8.CopyTo(s);
        "ELF"u8.CopyTo(s[1..]);
        s[4] = 2;
        s[5] = 1;
        s[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 62);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(s[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(s[32..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(s[52..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(s[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(s[56..], 1);
        var p = s[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 7);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)code.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], (ulong)code.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 0x1000);
        code.CopyTo(s[0x1000..]);
        return file;
    }

    [TestMethod]
    [DynamicData(nameof(BootPaths))]
    public void BdaHoldsTheSerialPortTheEbdaTheEquipmentAndTheBaseMemory(string path)
    {
        using var machine = new Machine(new MachineConfig { MaxInstructions = 10 });
        var image = Image(path);
        machine.Load(image);
        var bda = machine.Bytes(0x400, 0x100);
        Assert.AreEqual((ushort)0x3F8, bda.U16(0x00), "COM1");
        Assert.AreEqual((ushort)0, bda.U16(0x02), "COM2");
        Assert.AreEqual((ushort)0, bda.U16(0x04), "COM3");
        Assert.AreEqual((ushort)0, bda.U16(0x06), "COM4");
        Assert.AreEqual((ushort)0, bda.U16(0x08), "LPT1");
        Assert.AreEqual((ushort)0, bda.U16(0x0A), "LPT2");
        Assert.AreEqual((ushort)0, bda.U16(0x0C), "LPT3");
        Assert.AreEqual((ushort)0x9FC0, bda.U16(0x0E), "EBDA segment");
        var equipment = bda.U16(0x10);
        Assert.AreEqual(1, (equipment >> 9) & 7, "one serial port");
        Assert.AreEqual(0, equipment >> 14, "no printer");
        Assert.AreEqual(2, (equipment >> 4) & 3, "80x25 colour");
        Assert.AreEqual((ushort)639, bda.U16(0x13), "KiB of base memory");
        Assert.AreEqual(1, machine.Bytes(0x9FC00, 1)[0], "EBDA size in KiB");
    }

    [TestMethod]
    public void TheMultibootMemoryMapIsTheE820MapAndReservesTheTables()
    {
        const ulong memory = 96UL << 20;
        var image = ImageLoader.Load(MultibootKernel.Create([0xF4], 0x100000), "k.elf", new ImageLoadOptions(MemorySize: memory));
        using var machine = new Machine(new MachineConfig { MemoryBytes = memory });
        machine.Load(image);
        var mbi = machine.Bytes(((ProtectedModeEntry)image.Entry).Ebx, 52);
        var map = machine.Bytes(mbi.U32(48), (int)mbi.U32(44));
        var entries = new List<(ulong, ulong, uint)>();
        for (var at = 0; at < map.Length; at += (int)map.U32(at) + 4) entries.Add((map.U64(at + 4), map.U64(at + 12), map.U32(at + 20)));
        CollectionAssert.AreEqual(Sim.Platform.Bios.E820Map.For(memory).ToList(), entries);
        Assert.IsTrue(entries.Any(e => e.Item1 <= 0xE0000 && e.Item1 + e.Item2 >= 0x100000 && e.Item3 == 2), "E0000h-FFFFFh reserved");
    }
}
