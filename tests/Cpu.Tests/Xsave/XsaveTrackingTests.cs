using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Xsave.XsaveGuest;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// The init and modified optimizations (SDM vol. 1, 13.6, 13.8.3, 13.9, 13.11): XINUSE[i] = 0 only in a component's
/// initial configuration and 1 after XRSTOR loaded it; XGETBV with ECX = 1 gives XCR0 AND XINUSE; XSAVEOPT and XSAVES
/// may leave out a component unmodified since the XRSTOR whose XRSTOR_INFO they match, and must save every other one.
/// </summary>
[TestClass]
public sealed class XsaveTrackingTests
{
    private static void Xgetbv1(Iced.Intel.Assembler a, Iced.Intel.AssemblerRegister64 into)
    {
        a.mov(ecx, 1);
        a.xgetbv();
        a.mov(into, rax);
    }

    [TestMethod]
    public void XgetbvEcx1ReportsOnlyComponentsOutOfTheirInitialConfiguration()
    {
        using var g = Long(a =>
        {
            Mask(a, 7);
            a.xrstor64(__[rsi]);
            Xgetbv1(a, r8);
            a.mov(eax, 1);
            a.movd(xmm3, eax);
            Xgetbv1(a, r9);
            a.fld1();
            Xgetbv1(a, r10);
        });
        Header(g, Area, 0);
        g.Memory.Write(Area + 24, 4, 0x1F80);
        FillState(g.Cpu);
        RunToEnd(g);
        Assert.AreEqual(0UL, g.Cpu.GetGpr(8), "after XRSTOR initialized all three: none in use");
        Assert.AreEqual(2UL, g.Cpu.GetGpr(9), "XMM3 written: SSE in use");
        Assert.AreEqual(3UL, g.Cpu.GetGpr(10), "FLD1: x87 in use");
    }

    [TestMethod]
    public void XrstorLoadingAZeroImageStillTracksTheComponentsAsInUse()
    {
        using var g = Long(a => { Mask(a, 6); a.xrstor64(__[rsi]); Xgetbv1(a, r8); Mask(a, 7); a.xsaveopt64(__[rdi]); });
        g.Memory.WriteBytes(Area, new byte[1024]);
        g.Memory.Write(Area + 24, 4, 0x1F80);
        Header(g, Area, 6);
        g.Cpu.Rdi = Other;
        g.Memory.WriteBytes(Other, Enumerable.Repeat(Fill, 1024).ToArray());
        RunToEnd(g);
        Assert.AreEqual(6UL, g.Cpu.GetGpr(8) & 6, "RFBM[i] = XSTATE_BV[i] = 1: XINUSE[i] is set to 1 (13.8.3)");
        Assert.AreEqual(6UL, g.Memory.Read(Other + 512, 8) & 6, "so XSAVEOPT reports them in use");
    }

    [TestMethod]
    public void VzeroupperAndVzeroallPutTheirComponentsOutOfUse()
    {
        using var g = Long(a =>
        {
            Mask(a, 7);
            a.xrstor64(__[rsi]);
            Xgetbv1(a, r8);
            a.vzeroupper();
            Xgetbv1(a, r9);
            a.xrstor64(__[rsi]);
            a.vzeroall();
            Xgetbv1(a, r10);
        });
        g.Memory.WriteBytes(Area, new byte[1024]);
        g.Memory.Write(Area + 24, 4, 0x1F80);
        g.Memory.Write(Area + 160, 8, 1);
        g.Memory.Write(Area + 576, 8, 2);
        Header(g, Area, 6);
        RunToEnd(g);
        Assert.AreEqual(6UL, g.Cpu.GetGpr(8) & 6, "loaded by XRSTOR: in use");
        Assert.AreEqual(2UL, g.Cpu.GetGpr(9) & 6, "VZEROUPPER: AVX state initial, not in use; SSE still in use");
        Assert.AreEqual(0UL, g.Cpu.GetGpr(10) & 6, "VZEROALL: neither");
    }

    [TestMethod]
    public void XgetbvEcx1IsMaskedByXcr0()
    {
        using var g = Long(a => { Xgetbv1(a, r8); }, xcr0: 1);
        FillState(g.Cpu);
        RunToEnd(g);
        Assert.AreEqual(1UL, g.Cpu.GetGpr(8));
    }

    /// <summary>XRSTOR from the area, then <paramref name="between"/>, then XSAVEOPT (or XSAVES) to the same area.</summary>
    private static GuestRunner RestoreThenOptimizedSave(Action<Iced.Intel.Assembler> between, bool supervisor = false)
    {
        var g = Long(a =>
        {
            Mask(a, 7);
            if (supervisor) a.xrstors64(__[rsi]);
            else a.xrstor64(__[rsi]);
            between(a);
            Mask(a, 7);
            if (supervisor) a.xsaves64(__[rsi]);
            else a.xsaveopt64(__[rsi]);
        });
        FillState(g.Cpu);
        // The image: XMM0 = 1, x87 and AVX in use with the values FillState gave them.
        g.Memory.WriteBytes(Area, new byte[1024]);
        g.Memory.Write(Area, 2, 0x037F);
        g.Memory.Write(Area + 24, 4, 0x1F80);
        g.Memory.Write(Area + 32, 8, 0x8000_0000_0000_0000);
        g.Memory.Write(Area + 40, 2, 0x3FFF);
        g.Memory.Write(Area + 160, 8, 1);
        g.Memory.Write(Area + 576, 8, 2);
        Header(g, Area, 7, supervisor ? 0x8000_0000_0000_0007UL : 0);
        return g;
    }

    /// <summary>Software scribbles on the saved XMM0 after XRSTOR, so that a save that writes it shows.</summary>
    private const ulong Scribble = 0xEEEE_EEEE_EEEE_EEEE;

    [TestMethod]
    public void XsaveoptSavesAModifiedComponent()
    {
        using var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(rax, Scribble);
            a.mov(__qword_ptr[rsi + 160], rax);
            a.mov(eax, 5);
            a.movd(xmm0, eax);
        });
        RunToEnd(g);
        Assert.AreEqual(5UL, Qword(g, Area + 160), "XMM0 changed since XRSTOR: saved");
    }

    [TestMethod]
    public void XsaveoptLeavesOutAnUnmodifiedComponent()
    {
        using var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(rax, Scribble);
            a.mov(__qword_ptr[rsi + 160], rax);
        });
        RunToEnd(g);
        Assert.AreEqual(Scribble, Qword(g, Area + 160), "SSE unmodified since XRSTOR from this address at this CPL: not written");
        Assert.AreEqual(0x1F80UL, g.Memory.Read(Area + 24, 4), "MXCSR is written whatever the optimizations");
        Assert.AreEqual(7UL, Qword(g, Area + 512), "XSTATE_BV from XINUSE");
    }

    [TestMethod]
    public void AComponentChangedAndChangedBackAfterAnotherSaveIsSavedAgain()
    {
        using var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(eax, 5);
            a.movd(xmm0, eax);
            Mask(a, 7);
            a.xsave64(__[rsi]);
            a.mov(eax, 1);
            a.movd(xmm0, eax);
        });
        RunToEnd(g);
        Assert.AreEqual(1UL, Qword(g, Area + 160), "XMM0 holds XRSTOR's value again, but the area has XSAVE's: XSAVEOPT must write it");
    }

    [TestMethod]
    public void XsaveoptKeepsSavingAComponentItSavedOnce()
    {
        using var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(eax, 5);
            a.movd(xmm0, eax);
            Mask(a, 7);
            a.xsaveopt64(__[rsi]);
            a.mov(eax, 1);
            a.movd(xmm0, eax);
        });
        RunToEnd(g);
        Assert.AreEqual(1UL, Qword(g, Area + 160), "XMODIFIED[1] stays set after the first XSAVEOPT wrote XMM0 = 5");
    }

    [TestMethod]
    public void XsaveoptToAnotherAddressOrAtAnotherCplSavesInFull()
    {
        using var g = Long(a =>
        {
            Mask(a, 7);
            a.xrstor64(__[rsi]);
            a.mov(rdi, Other);
            a.xsaveopt64(__[rdi]);
        });
        g.Memory.WriteBytes(Area, new byte[1024]);
        g.Memory.Write(Area + 24, 4, 0x1F80);
        g.Memory.Write(Area + 160, 8, 9);
        Header(g, Area, 2);
        RunToEnd(g);
        Assert.AreEqual(9UL, g.Memory.Read(Other + 160, 8), "XRSTOR_INFO names another address: no modified optimization");
    }

    [TestMethod]
    public void X87ChangesAreSeenByXsaveopt()
    {
        using var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(rax, Scribble);
            a.mov(__qword_ptr[rsi + 32], rax);
            a.fldz();
        });
        RunToEnd(g);
        Assert.AreNotEqual(Scribble, Qword(g, Area + 32), "x87 changed by FLDZ: saved");
    }

    [TestMethod]
    public void XsavesUsesTheModifiedOptimizationAfterXrstorsAndSavesChanges()
    {
        using (var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(rax, Scribble);
            a.mov(__qword_ptr[rsi + 576], rax);
        }, supervisor: true))
        {
            RunToEnd(g);
            Assert.AreEqual(Scribble, Qword(g, Area + 576), "AVX unmodified since XRSTORS: not written");
            Assert.AreEqual(0x8000_0000_0000_0007UL, Qword(g, Area + 520));
        }
        using (var g = RestoreThenOptimizedSave(a =>
        {
            a.mov(rax, Scribble);
            a.mov(__qword_ptr[rsi + 160], rax);
            a.pcmpeqb(xmm0, xmm0);
        }, supervisor: true))
        {
            RunToEnd(g);
            Assert.AreEqual(ulong.MaxValue, Qword(g, Area + 160), "XMM0 changed since XRSTORS: saved");
        }
    }
}
