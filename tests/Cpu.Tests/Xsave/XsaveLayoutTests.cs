using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Xsave.XsaveGuest;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// Where XSAVE, XSAVEC and XSAVES put each state component (SDM vol. 1, 13.4, tables 13-1 and 13-2; 13.5.1–13.5.3): the
/// legacy region in FXSAVE's layout, XSTATE_BV at 512 and XCOMP_BV at 520, AVX's upper YMM halves at 576 in both formats
/// (the only extended component, so also first after the header when compacted), and the bytes each form leaves alone.
/// </summary>
[TestClass]
public sealed class XsaveLayoutTests
{
    private static void AssertLegacyX87(GuestRunner g, bool format64)
    {
        Assert.AreEqual(0x027AUL, g.Memory.Read(Area, 2), "FCW at 1:0");
        Assert.AreEqual(0x0821UL, g.Memory.Read(Area + 2, 2), "FSW at 3:2");
        Assert.AreEqual(0x82UL, g.Memory.Read(Area + 4, 1), "abridged FTW at 4");
        Assert.AreEqual(0x0123UL, g.Memory.Read(Area + 6, 2), "FOP at 7:6");
        if (format64)
        {
            Assert.AreEqual(0x1122_3344_5566_7788UL, Qword(g, Area + 8), "64-bit FIP at 15:8");
            Assert.AreEqual(0x99AA_BBCC_DDEE_FF00UL, Qword(g, Area + 16), "64-bit FDP at 23:16");
        }
        else
        {
            Assert.AreEqual(0x5566_7788UL, g.Memory.Read(Area + 8, 4), "FIP[31:0] at 11:8");
            Assert.AreEqual(0x0033UL, g.Memory.Read(Area + 12, 2), "FCS at 13:12 (CPUID.07H:EBX[13] = 0)");
            Assert.AreEqual(0xDDEE_FF00UL, g.Memory.Read(Area + 16, 4), "FDP[31:0] at 19:16");
            Assert.AreEqual(0x002BUL, g.Memory.Read(Area + 20, 2), "FDS at 21:20");
        }
        for (var i = 0; i < 8; i++)
        {
            var expected = Real(((1 + i) & 7) + 1);
            Assert.AreEqual(expected.Significand, Qword(g, Area + 32 + 16 * (ulong)i), $"ST{i} significand (R{(1 + i) & 7}, TOP = 1)");
            Assert.AreEqual(expected.SignExponent, (ushort)g.Memory.Read(Area + 40 + 16 * (ulong)i, 2), $"ST{i} sign and exponent");
        }
    }

    private static void AssertXmm(GuestRunner g, int count)
    {
        for (var r = 0; r < count; r++)
            CollectionAssert.AreEqual(g.Cpu.VectorRegister(r)[..16].ToArray(), Read(g, Area + 160 + 16 * (ulong)r, 16), $"XMM{r} at {160 + 16 * r}");
    }

    private static void AssertAvx(GuestRunner g, int count)
    {
        for (var r = 0; r < count; r++)
            CollectionAssert.AreEqual(g.Cpu.VectorRegister(r)[16..].ToArray(), Read(g, Area + 576 + 16 * (ulong)r, 16), $"YMM{r}[255:128] at {576 + 16 * r}");
    }

    [TestMethod]
    public void Xsave64StoresEveryComponentAtItsStandardOffset()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsave64(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        AssertLegacyX87(g, format64: true);
        Assert.AreEqual(0x1F81UL, g.Memory.Read(Area + 24, 4), "MXCSR at 27:24");
        Assert.AreEqual((ulong)Processor.MxcsrMask, g.Memory.Read(Area + 28, 4), "MXCSR_MASK at 31:28");
        AssertXmm(g, 16);
        AssertUntouched(g, 464, 512, "bytes 511:464, for software");
        Assert.AreEqual(0xCCCC_CCCC_CCCC_CCC8UL | 7, Qword(g, Area + 512), "XSTATE_BV: bits outside RFBM kept, RFBM's set to XINUSE");
        AssertUntouched(g, 520, 576, "XCOMP_BV and the rest of the header");
        AssertAvx(g, 16);
        AssertUntouched(g, 832, 900, "beyond the AVX state");
    }

    [TestMethod]
    public void XsaveWithoutRexWUsesThe32BitX87Format()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsave(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        AssertLegacyX87(g, format64: false);
        AssertUntouched(g, 14, 16, "bytes 15:14");
        AssertUntouched(g, 22, 24, "bytes 23:22");
        AssertXmm(g, 16);
    }

    [TestMethod]
    public void OutsideLongModeOnlyXmm0To7AndYmm0To7AreSaved()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, cr4);
            a.or(eax, (int)(Registers.Cr4.OSFXSR | Registers.Cr4.OSXSAVE));
            a.mov(cr4, eax);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            a.mov(eax, -1);
            a.mov(edx, -1);
            a.mov(esi, (uint)Area);
            a.xsave(__[esi]);
            a.hlt();
        });
        g.Memory.WriteBytes(Area, Enumerable.Repeat(Fill, 0x1000).ToArray());
        FillState(g.Cpu);
        RunToEnd(g);
        AssertXmm(g, 8);
        AssertUntouched(g, 160 + 128, 416, "XMM8–15");
        AssertAvx(g, 8);
        AssertUntouched(g, 576 + 128, 832, "YMM8–15");
    }

    [TestMethod]
    [DataRow(2UL, DisplayName = "SSE: XMM and MXCSR")]
    [DataRow(4UL, DisplayName = "AVX: upper halves and MXCSR")]
    [DataRow(1UL, DisplayName = "x87 only")]
    public void RfbmSelectsTheComponentsAndMxcsrGoesWithSseOrAvx(ulong mask)
    {
        using var g = Long(a => { Mask(a, mask); a.xsave64(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        if ((mask & 1) != 0) AssertLegacyX87(g, true);
        else
        {
            AssertUntouched(g, 0, 24, "x87 control fields");
            AssertUntouched(g, 32, 160, "x87 registers");
        }
        if ((mask & 6) != 0) Assert.AreEqual(0x0000_FFFF_0000_1F81UL, Qword(g, Area + 24), "MXCSR and MXCSR_MASK (RFBM[1] or RFBM[2])");
        else AssertUntouched(g, 24, 32, "MXCSR");
        if ((mask & 2) != 0) AssertXmm(g, 16);
        else AssertUntouched(g, 160, 416, "XMM registers");
        if ((mask & 4) != 0) AssertAvx(g, 16);
        else AssertUntouched(g, 576, 832, "AVX state");
        Assert.AreEqual((0xCCCC_CCCC_CCCC_CCCCUL & ~mask) | mask, Qword(g, Area + 512), "XSTATE_BV");
    }

    [TestMethod]
    public void Xcr0LimitsRfbm()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsave64(__[rsi]); }, xcr0: 3);
        FillState(g.Cpu);
        RunToEnd(g);
        AssertXmm(g, 16);
        AssertUntouched(g, 576, 832, "AVX state (not in XCR0)");
        Assert.AreEqual(0xCCCC_CCCC_CCCC_CCCCUL | 3, Qword(g, Area + 512));
    }

    [TestMethod]
    public void XsavecWritesTheCompactedHeaderAndPutsAvxRightAfterIt()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsavec64(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        AssertLegacyX87(g, true);
        Assert.AreEqual(0x0000_FFFF_0000_1F81UL, Qword(g, Area + 24));
        AssertXmm(g, 16);
        AssertUntouched(g, 464, 512, "bytes 511:464");
        Assert.AreEqual(7UL, Qword(g, Area + 512), "XSTATE_BV = RFBM AND XINUSE, bits outside RFBM cleared");
        Assert.AreEqual(0x8000_0000_0000_0007UL, Qword(g, Area + 520), "XCOMP_BV = RFBM with bit 63");
        AssertUntouched(g, 528, 576, "header bytes 63:16");
        AssertAvx(g, 16);
    }

    [TestMethod]
    public void XsavecLeavesOutComponentsInTheirInitialConfiguration()
    {
        using var g = Long(a => { Mask(a, 5); a.xsavec64(__[rsi]); });
        g.Cpu.FpuControlWord = 0x037F;
        g.Cpu.FpuAbridgedTagWord = 0;
        g.Cpu.Mxcsr = 0x1F80;
        RunToEnd(g);
        AssertUntouched(g, 0, 512, "the legacy region (x87 in its initial configuration, SSE not requested)");
        Assert.AreEqual(0UL, Qword(g, Area + 512), "XSTATE_BV: nothing in use");
        Assert.AreEqual(0x8000_0000_0000_0005UL, Qword(g, Area + 520));
        AssertUntouched(g, 576, 832, "AVX state (initial: zero upper halves)");
    }

    [TestMethod]
    public void XsavecSavesSseStateWhileMxcsrIsNot1F80()
    {
        using var g = Long(a => { Mask(a, 2); a.xsavec64(__[rsi]); });
        g.Cpu.Mxcsr = 0x1FC0;
        RunToEnd(g);
        Assert.AreEqual(0x0000_FFFF_0000_1FC0UL, Qword(g, Area + 24), "MXCSR saved though XINUSE[1] = 0");
        Assert.AreEqual(0UL, Qword(g, Area + 160), "XMM0 (zero) saved with it");
        Assert.AreEqual(2UL, Qword(g, Area + 512), "XSTATE_BV[1] = 1");
    }

    [TestMethod]
    public void XsavesWritesTheSameCompactedImageAtCpl0()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsaves64(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        AssertLegacyX87(g, true);
        AssertXmm(g, 16);
        Assert.AreEqual(7UL, Qword(g, Area + 512));
        Assert.AreEqual(0x8000_0000_0000_0007UL, Qword(g, Area + 520), "XCOMP_BV = (XCR0 | IA32_XSS) AND EDX:EAX with bit 63");
        AssertAvx(g, 16);
    }

    [TestMethod]
    public void XsaveoptToAnAreaNoXrstorLoadedSavesLikeXsave()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xsaveopt64(__[rsi]); });
        FillState(g.Cpu);
        RunToEnd(g);
        AssertLegacyX87(g, true);
        AssertXmm(g, 16);
        AssertAvx(g, 16);
        Assert.AreEqual(0xCCCC_CCCC_CCCC_CCC8UL | 7, Qword(g, Area + 512));
        AssertUntouched(g, 520, 576, "XCOMP_BV (XSAVEOPT writes only XSTATE_BV)");
    }
}
