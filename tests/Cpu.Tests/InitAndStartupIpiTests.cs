using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>INIT and the startup IPI (SDM vol. 3, 9.1 and 9.4.4; table 9-1 for the state after INIT).</summary>
[TestClass]
public sealed class InitAndStartupIpiTests
{
    private static GuestRunner LongModeLoop()
    {
        var g = GuestRunner.Long(a =>
        {
            a.mov(rax, 0x1234);
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.jmp(loop);
        });
        g.Cpu.Star = 0x0023_0010_0000_0000;
        g.Cpu.Pat = 0x0007_0406_0007_0406;
        return g;
    }

    [TestMethod]
    public void InitPutsTheBootstrapProcessorInRealModeAtTheResetVectorAndKeepsTheMsrs()
    {
        using var g = LongModeLoop();
        g.Run(100);
        g.Cpu.RaiseInit();
        g.Cpu.Run(g.Cpu.Cycles);
        Assert.AreEqual(0xFFF0UL, g.Cpu.Rip, "EIP FFF0H");
        var cs = g.Cpu.GetSegment(SegmentIndex.CS);
        Assert.AreEqual((ushort)0xF000, cs.Selector);
        Assert.AreEqual(0xFFFF0000UL, cs.Base);
        Assert.AreEqual(0UL, g.Cpu.Rax, "general registers cleared");
        Assert.AreEqual(0x600UL, g.Cpu.Rdx & 0xF00, "EDX holds the family (6)");
        Assert.AreEqual(2UL, g.Cpu.Flags, "RFLAGS 2");
        Assert.IsFalse(g.Cpu.InProtectedMode);
        Assert.AreEqual(0UL, g.Cpu.Cr4);
        Assert.AreEqual(0UL, g.Cpu.Efer & Efer.LMA, "out of IA-32e mode");
        Assert.AreEqual(0x0023_0010_0000_0000UL, g.Cpu.Star, "INIT leaves the MSRs unchanged (9.1)");
        Assert.AreEqual(0x0007_0406_0007_0406UL, g.Cpu.Pat);
        Assert.AreEqual(ActivityState.Active, g.Cpu.Activity, "the BSP starts at once");
    }

    [TestMethod]
    public void InitKeepsCr0CacheControlBits()
    {
        using var g = LongModeLoop();
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.CD, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
        g.Cpu.RaiseInit();
        g.Cpu.Run(g.Cpu.Cycles);
        Assert.AreEqual(Cr0.CD | Cr0.ET, g.Cpu.Cr0, "CR0 after INIT is x0000010H: CD and NW unchanged (table 9-1)");
    }

    [TestMethod]
    public void AnApplicationProcessorWaitsForASipiAndStartsAtItsVector()
    {
        using var g = LongModeLoop();
        g.Cpu.ApicBase &= ~(1UL << 8);
        g.Cpu.RaiseInit();
        Assert.AreEqual(StopReason.Halted, g.Run(1000), "after INIT an AP waits for a SIPI (9.4.4)");
        Assert.AreEqual(ActivityState.WaitForSipi, g.Cpu.Activity);
        g.Code(16, 0x9A000, a => { a.mov(ax, 0x77); a.hlt(); });
        g.Cpu.RaiseStartupIpi(0x9A);
        Assert.AreEqual(StopReason.Halted, g.Run(1000));
        var cs = g.Cpu.GetSegment(SegmentIndex.CS);
        Assert.AreEqual((ushort)0x9A00, cs.Selector, "CS = vector << 8 (10.6.1)");
        Assert.AreEqual(0x9A000UL, cs.Base);
        Assert.AreEqual(0x77UL, g.Cpu.Rax, "the code at vector << 12 ran from IP 0");
    }

    [TestMethod]
    public void ASipiToARunningProcessorIsDiscarded()
    {
        using var g = LongModeLoop();
        g.Cpu.RaiseStartupIpi(0x9A);
        g.Run(100);
        Assert.IsTrue(g.Cpu.InLongMode);
        g.Cpu.ApicBase &= ~(1UL << 8);
        g.Cpu.RaiseInit();
        g.Run(100);
        Assert.AreEqual(ActivityState.WaitForSipi, g.Cpu.Activity, "the SIPI sent before the INIT was not kept");
    }

    [TestMethod]
    public void BlockedInitStaysLatchedUntilUnblocked()
    {
        using var g = LongModeLoop();
        g.Cpu.InitBlocked = true;
        g.Cpu.RaiseInit();
        g.Run(100);
        Assert.IsTrue(g.Cpu.InLongMode, "INIT is blocked");
        Assert.IsTrue(g.Cpu.InitPending);
        g.Cpu.InitBlocked = false;
        g.Run(100);
        Assert.IsFalse(g.Cpu.InitPending);
        Assert.IsFalse(g.Cpu.InProtectedMode, "delivered once unblocked");
    }

    [TestMethod]
    public void GifClearHoldsInit()
    {
        using var g = LongModeLoop();
        g.Cpu.GlobalInterruptFlag = false;
        g.Cpu.RaiseInit();
        g.Run(100);
        Assert.IsTrue(g.Cpu.InitPending, "GIF clear holds INIT pending (AMD APM vol. 2, 15.17)");
        g.Cpu.GlobalInterruptFlag = true;
        g.Run(100);
        Assert.IsFalse(g.Cpu.InProtectedMode);
    }

    [TestMethod]
    public void TheUnitSeesInitAndSipiFirst()
    {
        using var g = LongModeLoop();
        var hooks = new RecordingHooks { Handler = (Processor _, ref Intercept e) => e.Kind == InterceptKind.Init };
        g.Cpu.Hooks = hooks;
        g.Cpu.RaiseInit();
        g.Run(100);
        Assert.IsTrue(g.Cpu.InLongMode, "the unit took the INIT");
        Assert.IsFalse(g.Cpu.InitPending);
        Assert.AreEqual(1, hooks.Calls.Count(c => c.Kind == InterceptKind.Init));

        hooks.Handler = null;
        g.Cpu.ApicBase &= ~(1UL << 8);
        g.Cpu.RaiseInit();
        g.Run(100);
        g.Cpu.RaiseStartupIpi(0x12);
        g.Run(100);
        Assert.AreEqual(0x12, hooks.Calls.Single(c => c.Kind == InterceptKind.StartupIpi).Vector);
    }
}
