using Sim.Cpu.Bus;
using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>Code in a read-only memory device (a firmware ROM) is decoded once and cached; code in any other device is decoded each time.</summary>
[TestClass]
public sealed class ReadOnlyMemoryFetchTests
{
    private class CountingRom(byte[] bytes, ulong baseAddress) : IMmioDevice
    {
        public long Reads { get; private set; }

        public ulong Read(ulong address, int size)
        {
            Reads++;
            ulong v = 0;
            for (var i = 0; i < size; i++) v |= (ulong)bytes[(int)(address - baseAddress) + i] << (8 * i);
            return v;
        }

        public void Write(ulong address, int size, ulong value)
        {
        }
    }

    private sealed class CountingReadOnlyRom(byte[] bytes, ulong baseAddress) : CountingRom(bytes, baseAddress), IReadOnlyMemoryDevice;

    /// <summary>The reset vector's page at FFFFF000h: mov ecx, 1000; l: dec ecx; jnz l; out F4h, al.</summary>
    private static (long Reads, ulong Retired) RunLoop(Func<byte[], ulong, CountingRom> device)
    {
        var page = new byte[4096];
        Array.Fill(page, (byte)0xF4);
        new byte[] { 0x66, 0xB9, 0xE8, 0x03, 0x00, 0x00, 0x66, 0x49, 0x75, 0xFC, 0xE6, 0xF4 }.CopyTo(page, 0xFF0);
        using var memory = new PhysicalMemory(1 << 20);
        var rom = device(page, 0xFFFFF000);
        memory.MapMmio(0xFFFFF000, 4096, rom);
        var bus = new TestBus();
        using var cpu = new Processor(memory, bus);
        bus.Cpu = cpu;
        cpu.Run(cpu.Cycles + 100_000);
        Assert.AreEqual(0, bus.ExitValue, "the loop ran to its OUT");
        return (rom.Reads, cpu.InstructionsRetired);
    }

    [TestMethod]
    public void ReadOnlyMemoryCodeIsDecodedOnce()
    {
        var (reads, retired) = RunLoop((b, a) => new CountingReadOnlyRom(b, a));
        Assert.AreEqual(2002UL, retired);
        Assert.IsTrue(reads <= 3 * 4096, $"{reads} byte reads: each block's page read once");
    }

    [TestMethod]
    public void OtherDeviceCodeIsDecodedEachTime()
    {
        var (reads, retired) = RunLoop((b, a) => new CountingRom(b, a));
        Assert.AreEqual(2002UL, retired);
        Assert.IsTrue(reads > 20 * 4096, $"{reads} byte reads: the loop is decoded again and again (a block follows it 32 turns)");
    }

    [TestMethod]
    public void AProcessorAtItsPowerUpStateFetchesAtFFFFFFF0h_Vol3_10_1_4()
    {
        var (_, retired) = RunLoop((b, a) => new CountingReadOnlyRom(b, a));
        Assert.AreNotEqual(0UL, retired, "the code at the reset vector ran, not RAM at FFF0h");
    }
}
