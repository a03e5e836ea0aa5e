using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>The physical address space's bounds: what lies past RAM reads as all ones and takes no writes, whatever the address.</summary>
[TestClass]
public sealed class PhysicalMemoryTests
{
    [TestMethod]
    [DataRow(0xFFFF_FFFF_FFFF_FFF8UL, 8)]
    [DataRow(0xFFFF_FFFF_FFFF_FFFFUL, 1)]
    [DataRow(0x0000_0000_0100_0000UL, 8)]
    public void AccessesWhoseEndWrapsPastTwoToTheSixtyFourAreOpenBus(ulong address, int size)
    {
        using var memory = new PhysicalMemory(16UL << 20);
        memory.Write(address, size, ulong.MaxValue);
        var open = size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        Assert.AreEqual(open, memory.Read(address, size) & open);
        var low = new byte[16];
        memory.ReadBytes(0, low);
        Assert.IsTrue(low.All(b => b == 0), "a wrapped write did not land at the bottom of RAM");
    }

    [TestMethod]
    public void ByteRangesWhoseEndWrapsAreRefused()
    {
        using var memory = new PhysicalMemory(16UL << 20);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => memory.WriteBytes(0xFFFF_FFFF_FFFF_FFF0UL, new byte[0x20]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => memory.ReadBytes(0xFFFF_FFFF_FFFF_FFF0UL, new byte[0x20]));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => memory.Zero(0xFFFF_FFFF_FFFF_FFF0UL, 0x20));
    }

    [TestMethod]
    public void RamReadsAsZerosUntilWrittenAndZeroClearsWholeAndPartialPages()
    {
        using var memory = new PhysicalMemory(16UL << 20);
        Assert.AreEqual(0UL, memory.Read(0xFF_FFF8, 8), "fresh RAM is zero");
        memory.WriteBytes(0x1000, Enumerable.Repeat((byte)0x5A, 0x4000).ToArray());

        memory.Zero(0x1800, 0x2000);

        var back = new byte[0x4000];
        memory.ReadBytes(0x1000, back);
        Assert.IsTrue(back[..0x800].All(b => b == 0x5A), "before the range");
        Assert.IsTrue(back[0x800..0x2800].All(b => b == 0), "the range: a partial page, a whole page, a partial page");
        Assert.IsTrue(back[0x2800..].All(b => b == 0x5A), "after the range");
    }
}
