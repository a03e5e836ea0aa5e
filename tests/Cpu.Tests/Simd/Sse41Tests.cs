using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>SSE4.1 results by the SDM's operation sections (vol. 2): extension, blends, PTEST, arithmetic, insertion and extraction, DPPS/DPPD, ROUND*.</summary>
[TestClass]
public sealed class Sse41Tests
{
    [TestMethod]
    public void SignAndZeroExtensionFromMemoryAndRegister()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pmovsxbw(xmm0, __qword_ptr[rsi]);
            a.pmovzxbd(xmm1, __dword_ptr[rsi]);
            a.pmovsxwq(xmm2, xmm0);
            a.pmovzxbq(xmm3, __word_ptr[rsi]);
            a.pmovsxdq(xmm4, xmm5);
        });
        var c = g.Cpu;
        g.Memory.Write(Data, 8, 0x03FE_0200_01FF_7F80);
        SetXmm(c, 5, 0x8000_0000_7FFF_FFFF, 0x1234);
        RunToEnd(g);
        Assert.AreEqual(0x0001_FFFF_007F_FF80UL, Qword(c, 0, 0));
        Assert.AreEqual(0x0003_FFFE_0002_0000UL, Qword(c, 0, 1));
        Assert.AreEqual(0x0000_007F_0000_0080UL, Qword(c, 1, 0));
        Assert.AreEqual(0x0000_0001_0000_00FFUL, Qword(c, 1, 1));
        Assert.AreEqual(0xFFFF_FFFF_FFFF_FF80UL, Qword(c, 2, 0));
        Assert.AreEqual(0x7FUL, Qword(c, 2, 1));
        Assert.AreEqual(0x80UL, Qword(c, 3, 0));
        Assert.AreEqual(0x7FUL, Qword(c, 3, 1));
        Assert.AreEqual(0x7FFF_FFFFUL, Qword(c, 4, 0));
        Assert.AreEqual(0xFFFF_FFFF_8000_0000UL, Qword(c, 4, 1));
    }

    [TestMethod]
    public void BlendsTakeTheSourceWhereTheMaskSelects()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pblendvb(xmm1, xmm2);
            a.blendvps(xmm3, xmm4);
            a.blendpd(xmm5, xmm6, 2);
            a.pblendw(xmm7, xmm8, 0xA5);
            a.blendvpd(xmm9, xmm10);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x8000_0000_0000_0080, 0xFF00_0000_0000_0000);
        for (var r = 1; r <= 10; r++) SetXmm(c, r, 0x1111_1111_1111_1111UL * (ulong)r, 0x1111_1111_1111_1111UL * (ulong)r);
        RunToEnd(g);
        Assert.AreEqual(0x2211_1111_1111_1122UL, Qword(c, 1, 0));
        Assert.AreEqual(0x2211_1111_1111_1111UL, Qword(c, 1, 1));
        Assert.AreEqual(0x4444_4444_3333_3333UL, Qword(c, 3, 0));
        Assert.AreEqual(0x4444_4444_3333_3333UL, Qword(c, 3, 1));
        Assert.AreEqual(0x5555_5555_5555_5555UL, Qword(c, 5, 0));
        Assert.AreEqual(0x6666_6666_6666_6666UL, Qword(c, 5, 1));
        Assert.AreEqual(0x7777_8888_7777_8888UL, Qword(c, 7, 0));
        Assert.AreEqual(0x8888_7777_8888_7777UL, Qword(c, 7, 1));
        Assert.AreEqual(0xAAAA_AAAA_AAAA_AAAAUL, Qword(c, 9, 0), "BLENDVPD: both of XMM0's qwords are negative");
        Assert.AreEqual(0xAAAA_AAAA_AAAA_AAAAUL, Qword(c, 9, 1));
    }

    [TestMethod]
    public void PtestSetsZfAndCfAndClearsTheOthers()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.xor(ecx, ecx);
            a.sub(ecx, 1);
            a.ptest(xmm0, xmm1);
            a.pushfq();
            a.pop(rax);
            a.ptest(xmm0, xmm0);
            a.pushfq();
            a.pop(rbx);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0xF0F0, 0);
        SetXmm(c, 1, 0x0F0F, 1);
        RunToEnd(g);
        Assert.AreEqual(Rflags.ZF, c.Rax & Rflags.Status, "a AND b = 0; NOT a AND b ≠ 0; SF, AF, PF, CF of the SUB cleared");
        Assert.AreEqual(Rflags.CF, c.Rbx & Rflags.Status, "NOT a AND a = 0");
    }

    [TestMethod]
    public void PackMultiplyMinimumPositionAndSums()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.packusdw(xmm0, xmm1);
            a.pmuldq(xmm2, xmm3);
            a.pmulld(xmm4, xmm5);
            a.phminposuw(xmm6, xmm7);
            a.mpsadbw(xmm8, xmm9, 5);
            a.pminsb(xmm10, xmm11);
            a.pmaxud(xmm12, xmm13);
            a.pcmpeqq(xmm14, xmm15);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x0001_0000_FFFF_FFFF, 0x7FFF_FFFF_0000_1234);
        SetXmm(c, 1, 0x0000_FFFF_0000_0000, 0x0000_0005_8000_0000);
        SetXmm(c, 2, 0x1234_5678_FFFF_FFFE, 0x0000_0000_7FFF_FFFF);
        SetXmm(c, 3, 0x9ABC_DEF0_0000_0003, 0x0000_0000_7FFF_FFFF);
        SetXmm(c, 4, 0xFFFF_FFFF_0001_0000, 0);
        SetXmm(c, 5, 0x0000_0005_0001_0001, 0);
        SetXmm(c, 7, 0x0003_0009_0003_0005, 0x0008_0003_0004_FFFF);
        SetXmm(c, 6, ulong.MaxValue, ulong.MaxValue);
        SetXmm(c, 8, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908);
        SetXmm(c, 9, 0x0403_0201_FFFF_FFFF, ulong.MaxValue);
        SetXmm(c, 10, 0x80, 0);
        SetXmm(c, 11, 0x7F, 0);
        SetXmm(c, 12, 1, 0);
        SetXmm(c, 13, 0xFFFF_FFFF, 0);
        SetXmm(c, 14, 5, 6);
        SetXmm(c, 15, 5, 7);
        RunToEnd(g);
        Assert.AreEqual(0xFFFF_1234_FFFF_0000UL, Qword(c, 0, 0), "−1 → 0, 10000h → FFFFh");
        Assert.AreEqual(0x0005_0000_FFFF_0000UL, Qword(c, 0, 1));
        Assert.AreEqual(unchecked((ulong)-6L), Qword(c, 2, 0));
        Assert.AreEqual(0x3FFF_FFFF_0000_0001UL, Qword(c, 2, 1));
        Assert.AreEqual(0xFFFF_FFFB_0001_0000UL, Qword(c, 4, 0));
        Assert.AreEqual(0x0001_0003UL, Qword(c, 6, 0), "the first of the equal minima, word 1");
        Assert.AreEqual(0UL, Qword(c, 6, 1));
        Assert.AreEqual(0x0018_0014_0010_000CUL, Qword(c, 8, 0), "|4 + i + k − (1 + k)| summed: 12 + 4i");
        Assert.AreEqual(0x0028_0024_0020_001CUL, Qword(c, 8, 1));
        Assert.AreEqual(0x80UL, Qword(c, 10, 0));
        Assert.AreEqual(0xFFFF_FFFFUL, Qword(c, 12, 0));
        Assert.AreEqual(ulong.MaxValue, Qword(c, 14, 0));
        Assert.AreEqual(0UL, Qword(c, 14, 1));
    }

    [TestMethod]
    public void InsertionAndExtraction()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(rax, -1);
            a.mov(rbx, -1);
            a.extractps(eax, xmm0, 2);
            a.pextrb(ebx, xmm0, 13);
            a.pextrq(rcx, xmm0, 1);
            a.pextrw(__word_ptr[rsi], xmm0, 3);
            a.pextrd(__dword_ptr[rsi + 4], xmm0, 1);
            a.pinsrb(xmm1, edx, 9);
            a.pinsrd(xmm1, __dword_ptr[rsi + 4], 0);
            a.pinsrq(xmm2, r8, 1);
            a.insertps(xmm3, xmm0, 0x98);
            a.insertps(xmm4, __dword_ptr[rsi + 4], 0xE0);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x2222_2222_1111_1111, 0x4444_4444_3333_3333);
        SetXmm(c, 3, ulong.MaxValue, ulong.MaxValue);
        c.Rdx = 0x1234_56AB;
        c.SetGpr(8, 0x0102_0304_0506_0708);
        g.Memory.Write(Data, 8, 0xAAAA_AAAA_AAAA_AAAA);
        RunToEnd(g);
        Assert.AreEqual(0x3333_3333UL, c.Rax, "zero-extended");
        Assert.AreEqual(0x44UL, c.Rbx);
        Assert.AreEqual(0x4444_4444_3333_3333UL, c.Rcx);
        Assert.AreEqual(0x2222_2222_AAAA_2222UL, g.Memory.Read(Data, 8), "PEXTRW m16 and PEXTRD m32 store their size");
        Assert.AreEqual(0x2222_2222UL, Qword(c, 1, 0));
        Assert.AreEqual(0xAB00UL, Qword(c, 1, 1));
        Assert.AreEqual(0x0102_0304_0506_0708UL, Qword(c, 2, 1));
        Assert.AreEqual(0x3333_3333_FFFF_FFFFUL, Qword(c, 3, 0), "lane 2 to lane 1");
        Assert.AreEqual(0x0000_0000_FFFF_FFFFUL, Qword(c, 3, 1), "lane 3 zeroed");
        Assert.AreEqual(0x2222_2222UL, Qword(c, 4, 1), "from memory the count_s field is ignored");
    }

    [TestMethod]
    public void DotProductsAddInTheManualsOrder()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.movaps(xmm2, xmm0);
            a.dpps(xmm0, xmm1, 0xF1);
            a.dpps(xmm2, xmm1, 0x7E);
            a.dppd(xmm3, xmm4, 0x31);
            a.dpps(xmm5, xmm6, 0xF1);
        });
        var c = g.Cpu;
        SetSingles(c, 0, 1, 2, 3, 4);
        SetSingles(c, 1, 5, 6, 7, 8);
        SetXmm(c, 3, BitConverter.DoubleToUInt64Bits(1.5), BitConverter.DoubleToUInt64Bits(2));
        SetXmm(c, 4, BitConverter.DoubleToUInt64Bits(2), BitConverter.DoubleToUInt64Bits(4));
        SetSingles(c, 5, 16777216f, 1, 1, -16777216f);
        SetSingles(c, 6, 1, 1, 1, 1);
        RunToEnd(g);
        Assert.AreEqual(Pair(70, 0), Qword(c, 0, 0));
        Assert.AreEqual(0UL, Qword(c, 0, 1));
        Assert.AreEqual(Pair(0, 38), Qword(c, 2, 0), "5 + 12 + 21, lanes 1–3");
        Assert.AreEqual(Pair(38, 38), Qword(c, 2, 1));
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(11), Qword(c, 3, 0));
        Assert.AreEqual(0UL, Qword(c, 3, 1));
        Assert.AreEqual(Pair(1, 0), Qword(c, 5, 0), "(2^24 + 1) + (1 − 2^24) = 2^24 + (1 − 2^24) = 1, not the sequential 0");
        Assert.AreEqual(SimdFloatPe, c.Mxcsr & 0x3F, "2^24 + 1 is inexact");
    }

    [TestMethod]
    public void DotProductWithAnUnmaskedInvalidLeavesTheDestination()
    {
        using var g = SimdGuest.Long(a => a.dpps(xmm0, xmm1, 0x11));
        var c = g.Cpu;
        SetSingles(c, 0, float.PositiveInfinity, 1, 1, 1);
        SetSingles(c, 1, 0, 1, 1, 1);
        c.Mxcsr = 0x1F80 & ~0x80u;
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector(), "∞ × 0 with IM clear");
        Assert.AreEqual(Pair(float.PositiveInfinity, 1), Qword(c, 0, 0));
        Assert.AreEqual(1u, c.Mxcsr & 0x3F);
    }

    [TestMethod]
    public void DotProductOfUnselectedLanesIsPositiveZero()
    {
        using var g = SimdGuest.Long(a => a.dpps(xmm0, xmm1, 0x1E));
        var c = g.Cpu;
        SetSingles(c, 0, -2, 5, 5, 5);
        SetSingles(c, 1, 0, 5, 5, 5);
        RunToEnd(g);
        Assert.AreEqual(Pair(0, 0), Qword(c, 0, 0), "lane 0 not selected: +0.0; lanes 1–3: (−2 × 0 + +0.0) + (+0.0 + +0.0) = +0 under round to nearest");
        Assert.AreEqual(Pair(0, 0), Qword(c, 0, 1));
    }

    private const uint SimdFloatPe = 0x20;

    [TestMethod]
    public void RoundByImmediateOrMxcsrWithPrecisionSuppression()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.roundss(xmm8, xmm9, 8);
            a.stmxcsr(__dword_ptr[rsi]);
            a.roundps(xmm0, xmm1, 0);
            a.roundps(xmm2, xmm3, 1);
            a.roundps(xmm4, xmm3, 2);
            a.roundps(xmm5, xmm3, 3);
            a.roundsd(xmm6, xmm7, 4);
        });
        var c = g.Cpu;
        SetSingles(c, 1, 2.5f, -2.5f, 1.5f, -0.5f);
        SetSingles(c, 3, 1.5f, -1.5f, 0.25f, -0.25f);
        SetXmm(c, 6, 0, 0x1234);
        SetXmm(c, 7, BitConverter.DoubleToUInt64Bits(-1.25), 0);
        SetSingles(c, 8, 0, 7, 7, 7);
        SetSingles(c, 9, 1.25f);
        c.Mxcsr = 0x1F80 | (1 << 13);
        RunToEnd(g);
        Assert.AreEqual(Pair(2, -2), Qword(c, 0, 0), "nearest even");
        Assert.AreEqual(Pair(2, -0f), Qword(c, 0, 1));
        Assert.AreEqual(Pair(1, -2), Qword(c, 2, 0), "down");
        Assert.AreEqual(Pair(0, -1), Qword(c, 2, 1));
        Assert.AreEqual(Pair(2, -1), Qword(c, 4, 0), "up");
        Assert.AreEqual(Pair(1, -0f), Qword(c, 4, 1));
        Assert.AreEqual(Pair(1, -1), Qword(c, 5, 0), "toward zero");
        Assert.AreEqual(Pair(0, -0f), Qword(c, 5, 1));
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(-2), Qword(c, 6, 0), "imm8[2]: MXCSR.RC = down");
        Assert.AreEqual(0x1234UL, Qword(c, 6, 1));
        Assert.AreEqual(Pair(1, 7), Qword(c, 8, 0));
        Assert.AreEqual(0u, (uint)g.Memory.Read(Data, 4) & 0x3F, "imm8[3] suppresses PE");
        Assert.AreEqual(SimdFloatPe, c.Mxcsr & 0x3F);
    }

    [TestMethod]
    public void RoundPrecisionExceptionUnmaskedFaultsUnlessSuppressed()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.roundps(xmm0, xmm1, 8);
            a.roundps(xmm2, xmm1, 0);
        });
        var c = g.Cpu;
        SetSingles(c, 1, 1.5f, 2, 3, 4);
        SetXmm(c, 2, 0x55, 0x66);
        c.Mxcsr = 0x1F80 & ~0x1000u;
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector());
        Assert.AreEqual(Pair(2, 2), Qword(c, 0, 0), "suppressed: no fault");
        Assert.AreEqual(0x55UL, Qword(c, 2, 0), "no result written");
        Assert.AreEqual(SimdFloatPe, c.Mxcsr & 0x3F);
    }

    [TestMethod]
    public void RoundSignalingNaNAndDenormalsUnderDaz()
    {
        using var g = SimdGuest.Long(a => a.roundps(xmm0, xmm1, 0));
        var c = g.Cpu;
        SetXmm(c, 1, 0x0000_0001_7F80_0001, 0x7F7F_FFFF_4B00_0001);
        c.Mxcsr = 0x1F80 | 0x40;
        RunToEnd(g);
        Assert.AreEqual(0x0000_0000_7FC0_0001UL, Qword(c, 0, 0), "SNaN quieted; a denormal is zero under DAZ");
        Assert.AreEqual(0x7F7F_FFFF_4B00_0001UL, Qword(c, 0, 1), "already integral");
        Assert.AreEqual(1u, c.Mxcsr & 0x3F, "IE only: no DE, no PE");
    }
}
