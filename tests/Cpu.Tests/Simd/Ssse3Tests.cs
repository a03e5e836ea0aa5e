using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>SSSE3 results by the SDM's operation sections (vol. 2, PSHUFB, PALIGNR, PHADDW ... PSIGNB), XMM and MMX forms.</summary>
[TestClass]
public sealed class Ssse3Tests
{
    [TestMethod]
    public void ShuffleBytesZeroesWhereTheIndexHasBit7()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pshufb(xmm0, xmm1);
            a.pshufb(mm0, mm1);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908);
        // Indices 0Fh, 80h (zero), 1Fh (its low four bits: 15), 0, then 4–7; 07h–0Dh and 8Fh (zero).
        SetXmm(c, 1, 0x0706_0504_001F_800F, 0x8F0D_0C0B_0A09_0807);
        SetMm(c, 0, 0x8877_6655_4433_2211);
        SetMm(c, 1, 0x0001_0203_8F07_090F);
        RunToEnd(g);
        Assert.AreEqual(0x0706_0504_000F_000FUL, Qword(c, 0, 0));
        Assert.AreEqual(0x000D_0C0B_0A09_0807UL, Qword(c, 0, 1));
        // MMX: index bits 2:0 only; 8Fh has bit 7 set.
        Assert.AreEqual(0x1122_3344_0088_2288UL, Mm(c, 0));
    }

    [TestMethod]
    public void AlignRightConcatenatesDestinationAboveSource()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.movdqa(xmm2, xmm0);
            a.palignr(xmm0, xmm1, 4);
            a.palignr(xmm2, xmm1, 20);
            a.palignr(mm0, mm1, 3);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x1716_1514_1312_1110, 0x1F1E_1D1C_1B1A_1918);
        SetXmm(c, 1, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908);
        SetMm(c, 0, 0x1716_1514_1312_1110);
        SetMm(c, 1, 0x0706_0504_0302_0100);
        RunToEnd(g);
        Assert.AreEqual(0x0B0A_0908_0706_0504UL, Qword(c, 0, 0));
        Assert.AreEqual(0x1312_1110_0F0E_0D0CUL, Qword(c, 0, 1));
        Assert.AreEqual(0x1B1A_1918_1716_1514UL, Qword(c, 2, 0), "shift 20: destination bytes from 4");
        Assert.AreEqual(0x0000_0000_1F1E_1D1CUL, Qword(c, 2, 1));
        Assert.AreEqual(0x1211_1007_0605_0403UL, Mm(c, 0));
    }

    [TestMethod]
    public void HorizontalAddAndSubtract()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.phaddw(xmm0, xmm1);
            a.phsubsw(xmm2, xmm3);
            a.phaddd(mm0, mm1);
            a.phsubw(mm2, mm3);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x0004_0003_0002_0001, 0x7FFF_0001_FFFF_0001);
        SetXmm(c, 1, 0x0040_0030_0020_0010, 0x0000_0000_0000_0005);
        SetXmm(c, 2, 0x0001_8000_0001_0005, 0);
        SetXmm(c, 3, 0, 0x8000_7FFF_0000_0000);
        SetMm(c, 0, 0x0000_0002_0000_0001);
        SetMm(c, 1, 0x0000_0010_FFFF_FFFF);
        SetMm(c, 2, 0x0001_0004_0002_0003);
        SetMm(c, 3, 0x0010_0020_0000_0000);
        RunToEnd(g);
        Assert.AreEqual(0x8000_0000_0007_0003UL, Qword(c, 0, 0), "wrapping: 7FFFh + 1 = 8000h, FFFFh + 1 = 0");
        Assert.AreEqual(0x0000_0005_0070_0030UL, Qword(c, 0, 1));
        Assert.AreEqual(0x8000_0004UL, Qword(c, 2, 0), "5 − 1 = 4, 8000h − 1 saturates to 8000h");
        Assert.AreEqual(0x7FFF_0000_0000_0000UL, Qword(c, 2, 1), "7FFFh − 8000h saturates to 7FFFh");
        Assert.AreEqual(0x0000_000F_0000_0003UL, Mm(c, 0), "a0 + a1, b0 + b1");
        Assert.AreEqual(0x0010_0000_0003_0001UL, Mm(c, 2));
    }

    [TestMethod]
    public void MultiplyAddSignsAbsoluteAndRoundedMultiply()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pmaddubsw(xmm0, xmm1);
            a.pmulhrsw(xmm2, xmm3);
            a.psignb(xmm4, xmm5);
            a.pabsb(xmm6, xmm7);
            a.pabsd(mm0, mm1);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x0000_0201_FFFF, 0);
        SetXmm(c, 1, 0x0000_FF01_7F7F, 0);
        SetXmm(c, 2, 0xFFFF_8000_4000, 0);
        SetXmm(c, 3, 0x0001_8000_4000, 0);
        SetXmm(c, 4, 0x8005_0403_0201, 0);
        SetXmm(c, 5, 0xFF01_00FF_0001, 0);
        SetXmm(c, 6, 0, 0);
        SetXmm(c, 7, 0x0000_FF80_7F01, 0);
        SetMm(c, 1, 0x8000_0000_FFFF_FFFE);
        RunToEnd(g);
        Assert.AreEqual(0x0000_FFFF_7FFFUL, Qword(c, 0, 0), "255×127×2 saturates; 1×1 + 2×(−1) = −1");
        Assert.AreEqual(0x0000_0000_8000_2000UL, Qword(c, 2, 0), "4000h² → 2000h; 8000h² → 8000h (bits 16:1 of the rounded product); −1 × 1 → 0");
        Assert.AreEqual(0x0000_8005_00FD_0001UL, Qword(c, 4, 0), "kept, zeroed, negated; −80h stays 80h");
        Assert.AreEqual(0x0000_0180_7F01UL, Qword(c, 6, 0), "|−128| stays 80h");
        Assert.AreEqual(0x8000_0000_0000_0002UL, Mm(c, 0));
    }
}
