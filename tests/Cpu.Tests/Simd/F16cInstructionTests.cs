using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>VCVTPH2PS and VCVTPS2PH (SDM vol. 2): widths, register and memory destinations, and the upper bits they zero.</summary>
[TestClass]
public sealed class F16cInstructionTests
{
    private const ulong Upper = 0xDEAD_BEEF_0123_4567;

    [TestMethod]
    public void Vcvtph2psWidensEightHalves()
    {
        using var g = AvxGuest.Long(a => a.vcvtph2ps(ymm0, xmm1));
        // 1, −2, 0.5, 65504, −0, +∞, 2^−24 (a denormal half), 1.5
        AvxGuest.SetYmm(g.Cpu, 1, 0x7BFF_3800_C000_3C00, 0x3E00_0001_7C00_8000, Upper, Upper);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new[] { 1f, -2, 0.5f, 65504, -0f, float.PositiveInfinity, MathF.Pow(2, -24), 1.5f },
            Enumerable.Range(0, 8).Select(i => AvxGuest.Single(g.Cpu, 0, i)).ToArray());
    }

    [TestMethod]
    public void Vcvtph2ps128ReadsOnlyAQwordOfMemory()
    {
        using var g = AvxGuest.Long(a => a.vcvtph2ps(xmm0, __qword_ptr[rsi]));
        g.Memory.Write(SimdGuest.Data, 8, 0x7BFF_3800_C000_3C00);
        AvxGuest.SetYmm(g.Cpu, 0, Upper, Upper, Upper, Upper);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { SimdGuest.Pair(1, -2), SimdGuest.Pair(0.5f, 65504), 0, 0 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void Vcvtps2phToARegisterZeroesTheBitsAboveAndToMemoryWritesOnlyItsSize()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vcvtps2ph(xmm1, xmm0, 0);
            a.vcvtps2ph(__qword_ptr[rsi], xmm0, 0);
            a.vcvtps2ph(__xmmword_ptr[rsi + 16], ymm0, 0);
        });
        AvxGuest.SetSingles(g.Cpu, 0, 1, -2, 0.5f, 65504, 3, 4, 5, 6);
        AvxGuest.SetYmm(g.Cpu, 1, Upper, Upper, Upper, Upper);
        g.Memory.Write(SimdGuest.Data + 8, 8, Upper);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x7BFF_3800_C000_3C00, 0, 0, 0 }, AvxGuest.Ymm(g.Cpu, 1));
        Assert.AreEqual(0x7BFF_3800_C000_3C00UL, g.Memory.Read(SimdGuest.Data, 8));
        Assert.AreEqual(Upper, g.Memory.Read(SimdGuest.Data + 8, 8), "the 128-bit form stores 64 bits");
        Assert.AreEqual(0x4600_4500_4400_4200UL, g.Memory.Read(SimdGuest.Data + 24, 8), "3, 4, 5, 6");
    }

    [TestMethod]
    public void Vcvtps2phRoundsPerImm8()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vcvtps2ph(xmm1, xmm0, 0);
            a.vcvtps2ph(xmm2, xmm0, 2);
        });
        AvxGuest.SetYmm(g.Cpu, 0, 0x3F80_0001);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(0x3C00UL, SimdGuest.Qword(g.Cpu, 1, 0));
        Assert.AreEqual(0x3C01UL, SimdGuest.Qword(g.Cpu, 2, 0), "imm8 = 2: toward +∞");
    }

    [TestMethod]
    public void CpuidAnnouncesF16c()
    {
        using var g = AvxGuest.Long(_ => { });
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreNotEqual(0u, ecx & (1u << 29), "CPUID.1:ECX.F16C[29]");
    }
}
