using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>GIF (AMD APM vol. 2, 15.17) and virtual interrupts (15.21.4).</summary>
[TestClass]
public sealed class GlobalInterruptFlagTests
{
    [TestMethod]
    public void ClgiHoldsInterruptsAndNmiUntilStgi()
    {
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x31 };
        m.Cpu.InterruptSource = source;
        m.Code(64, SvmTestMachine.HostCode, a => { a.clgi(); a.sti(); a.nop(); a.nop(); a.nop(); a.stgi(); a.nop(); a.hlt(); });
        m.Cpu.Step();
        Assert.IsFalse(m.Cpu.GlobalInterruptFlag);
        m.Cpu.RaiseNmi();
        for (var i = 0; i < 4; i++) m.Cpu.Step();
        Assert.AreEqual(0, source.Acknowledged, "GIF clear: INTR held pending");
        Assert.IsTrue(m.Cpu.NmiPending, "GIF clear: NMI held pending");
        m.Cpu.Step();
        Assert.IsTrue(m.Cpu.GlobalInterruptFlag, "STGI sets GIF");
        m.Cpu.Run(m.Cpu.Cycles + 1000);
        Assert.IsFalse(m.Cpu.NmiPending, "the NMI is taken first after STGI");
        Assert.AreEqual(ExceptionVector.NMI, (int)((m.Cpu.Rip - 1 - SvmTestMachine.HostStubs) / 4), "the host's NMI handler (HLT stub)");
    }

    [TestMethod]
    public void StgiAndClgiThroughTheApi()
    {
        using var m = new SvmTestMachine();
        Assert.AreEqual(SvmResult.Success, m.Unit.Clgi());
        Assert.IsFalse(m.Cpu.GlobalInterruptFlag);
        Assert.AreEqual(SvmResult.Success, m.Unit.Stgi());
        Assert.IsTrue(m.Cpu.GlobalInterruptFlag);
    }

    private static SvmTestMachine VirtualInterruptGuest(ulong vIntr, bool vintrIntercept)
    {
        var m = new SvmTestMachine();
        m.GuestProgram(a => { a.nop(); a.sti(); a.nop(); a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        if (vintrIntercept) m.Vmcb.Intercept(SvmIntercept.Vintr);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, vIntr);
        return m;
    }

    private const ulong VIrq = 1UL << 8, VIgnTpr = 1UL << 20;

    private static ulong Prio(int p) => (ulong)p << 16;

    private static ulong Vector(int v) => (ulong)v << 32;

    [TestMethod]
    public void VirtualInterruptIsDeliveredOnceIfAllowsIt()
    {
        using var m = VirtualInterruptGuest(VIrq | Prio(5) | Vector(0x41), false);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x41, m.GuestStubVector(v.Rip), "V_INTR_VECTOR through the guest IDT");
        Assert.AreEqual(SvmTestMachine.GuestCode + 3, m.Memory.Read(v.Read(VmcbLayout.Rsp, 8), 4), "taken after STI's shadow: return to the second NOP");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.VIntr, 8) & VIrq, "V_IRQ cleared once taken and written back on #VMEXIT");
    }

    [TestMethod]
    public void VintrInterceptExitsWhenTheGuestCouldTakeIt()
    {
        using var m = VirtualInterruptGuest(VIrq | Prio(5) | Vector(0x41), true);
        var v = m.RunToExit(SvmExitCode.Vintr);
        Assert.AreEqual(SvmTestMachine.GuestCode + 3, v.Rip, "IF=0 and the STI shadow delay the window to the second NOP");
        Assert.AreNotEqual(0UL, v.Read(VmcbLayout.VIntr, 8) & VIrq, "V_IRQ still pending");
    }

    [TestMethod]
    public void VTprMasksLowerOrEqualPriorityUnlessIgnored()
    {
        using var m = VirtualInterruptGuest(VIrq | Prio(3) | Vector(0x41) | 3, false);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(SvmTestMachine.GuestCode + 4, v.Rip, "V_INTR_PRIO 3 does not exceed V_TPR 3: not taken");
        Assert.AreNotEqual(0UL, v.Read(VmcbLayout.VIntr, 8) & VIrq);

        using var ignored = VirtualInterruptGuest(VIrq | Prio(3) | Vector(0x41) | 3 | VIgnTpr, false);
        v = ignored.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x41, ignored.GuestStubVector(v.Rip), "V_IGN_TPR: taken");
    }

    [TestMethod]
    public void UnderVIntrMaskingAGuestsCr8LeavesTheLocalApicsTprAlone()
    {
        // APM vol. 2, 15.21.2: with V_INTR_MASKING the guest's CR8 is V_TPR; the physical TPR keeps
        // the host's value all along, which the guest sees through the APIC page itself.
        using var m = new SvmTestMachine();
        var apic = new Sim.Platform.Apic.LocalApic(m.Cpu, new Sim.Platform.Apic.ApicBus(), new Sim.Platform.Time.MachineClock());
        m.Cpu.LocalApic = apic;
        m.Memory.Write(SvmTestMachine.Pml4 + 0x1000 + 3 * 8, 8, 0xC000_0000UL | 0x87);
        m.LongModeGuest();
        m.GuestProgram(a => { a.mov(eax, 9); a.mov(cr8, rax); a.mov(rbx, 0xFEE0_0080UL); a.mov(eax, __dword_ptr[rbx]); a.hlt(); }, 64);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, 1UL << 24);
        m.Cpu.Cr8 = 2;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x20UL, v.Read(VmcbLayout.Rax, 8), "the APIC's TPR as the guest read it after writing CR8");
        Assert.AreEqual(9UL, v.Read(VmcbLayout.VIntr, 8) & 0xFF, "V_TPR written back on #VMEXIT");
        Assert.AreEqual(0x20, apic.TaskPriority);
        Assert.AreEqual(2UL, m.Cpu.Cr8);
    }

    [TestMethod]
    public void GuestCr8WritesReachVTpr()
    {
        using var m = new SvmTestMachine();
        m.LongModeGuest();
        m.GuestProgram(a => { a.mov(eax, 9); a.mov(cr8, rax); a.hlt(); }, 64);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, 1UL << 24);
        m.Cpu.Cr8 = 2;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(9UL, v.Read(VmcbLayout.VIntr, 8) & 0xFF, "V_TPR written back on #VMEXIT (15.21.2)");
        Assert.AreEqual(2UL, m.Cpu.Cr8, "the host's TPR is back");
    }

    [TestMethod]
    public void InterruptShadowFromTheVmcbDelaysInterruptsOneInstruction()
    {
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x33 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.nop(); a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Intr);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        m.Vmcb.Write(VmcbLayout.InterruptShadow, 8, 1);
        var v = m.RunToExit(SvmExitCode.Intr);
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, v.Rip, "INTERRUPT_SHADOW lets the first instruction run");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.InterruptShadow, 8) & 1);
    }

    [TestMethod]
    public void VIntrMaskingLetsPhysicalInterruptsExitWhateverTheGuestIf()
    {
        foreach (var masking in new[] { false, true })
        {
            using var m = new SvmTestMachine();
            var source = new TestInterruptSource { Vector = 0x34 };
            m.Cpu.InterruptSource = source;
            m.GuestProgram(a => { a.cli(); a.nop(); a.nop(); a.hlt(); });
            m.Vmcb.Intercept(SvmIntercept.Intr);
            m.Vmcb.Intercept(SvmIntercept.Hlt);
            m.Vmcb.Write(VmcbLayout.VIntr, 8, masking ? 1UL << 24 : 0);
            m.Cpu.Flags |= Rflags.IF;
            var v = m.RunToExit(masking ? SvmExitCode.Intr : SvmExitCode.Hlt);
            Assert.AreEqual(masking ? SvmTestMachine.GuestCode : SvmTestMachine.GuestCode + 3, v.Rip, "with V_INTR_MASKING the pending INTR exits before the first guest instruction");
            Assert.AreEqual(0, source.Acknowledged, $"V_INTR_MASKING={masking}: the guest's IF=0 never lets the interrupt into the guest (15.21.1)");
        }
    }

    [TestMethod]
    public void UnderVIntrMaskingTheHostIfMasksPhysicalInterruptsAndTheirIntercept()
    {
        // APM vol. 2, 15.21.1: with V_INTR_MASKING set, the host's RFLAGS.IF (as VMRUN found it)
        // masks physical interrupts while the guest runs; a masked INTR is not taken, so it
        // cannot be intercepted either, whatever the guest's IF.
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x35 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.nop(); a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Intr);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, 1UL << 24);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        m.Cpu.Flags &= ~Rflags.IF;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(SvmTestMachine.GuestCode + 2, v.Rip, "no INTR #VMEXIT: the guest runs to its HLT");
        Assert.AreEqual(0, source.Acknowledged, "the interrupt stays pending for the host");
    }

    [TestMethod]
    public void AHaltedGuestStaysHaltedWhileTheHostIfMasksPhysicalInterrupts()
    {
        // APM vol. 2, 15.21.1: a physical interrupt masked by the host's IF under V_INTR_MASKING is
        // not taken, so it does not end the guest's HLT (an interrupt that is not taken never wakes HLT).
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x36 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.hlt(); a.nop(); a.nop(); a.cpuid(); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, 1UL << 24);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        m.Cpu.Flags &= ~Rflags.IF;
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        Assert.IsTrue(m.Unit.InGuest, "no #VMEXIT");
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, m.Cpu.Rip, "the guest is still in its HLT");
        Assert.AreEqual(ActivityState.Hlt, m.Cpu.Activity);
        Assert.AreEqual(0, source.Acknowledged);
    }

    [TestMethod]
    public void AMaskedPhysicalInterruptDoesNotHoldBackAVirtualOne()
    {
        // APM vol. 2, 15.21.1 and 15.21.4: with V_INTR_MASKING and the host's IF clear the physical
        // INTR is masked, so it takes no precedence: the pending virtual interrupt is taken.
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x37 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.nop(); a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Intr);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, (1UL << 24) | VIrq | Prio(5) | Vector(0x42));
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        m.Cpu.Flags &= ~Rflags.IF;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x42, m.GuestStubVector(v.Rip), "V_INTR_VECTOR delivered through the guest IDT");
        Assert.AreEqual(0, source.Acknowledged, "the physical interrupt stays pending for the host");
    }

    [TestMethod]
    public void APhysicalInterruptTakenDirectlyGoesBeforeAVirtualOne()
    {
        // APM vol. 2, 15.21.4: physical interrupts take priority over virtual interrupts, whether
        // they are taken directly or through a #VMEXIT.
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x38 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, VIrq | Prio(5) | Vector(0x43));
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x38, m.GuestStubVector(v.Rip), "the physical interrupt's handler runs first");
        Assert.AreEqual(1, source.Acknowledged);
        Assert.AreNotEqual(0UL, v.Read(VmcbLayout.VIntr, 8) & VIrq, "the virtual interrupt is still pending");
    }

    [TestMethod]
    public void WithoutVIntrMaskingCr8IsTheApicTprAndWritesReachVTprToo()
    {
        // APM vol. 2, 15.21.2: with V_INTR_MASKING clear, reads from CR8 operate as without SVM
        // (the APIC's TPR) and writes affect both the APIC's TPR and V_TPR, which #VMEXIT writes back.
        using var m = new SvmTestMachine();
        m.LongModeGuest();
        m.GuestProgram(a => { a.mov(rbx, cr8); a.mov(eax, 9); a.mov(cr8, rax); a.hlt(); }, 64);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, 5);
        m.Cpu.Cr8 = 2;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(2UL, m.Cpu.Rbx, "the guest read the APIC's TPR, not V_TPR");
        Assert.AreEqual(9UL, v.Read(VmcbLayout.VIntr, 8) & 0xFF, "V_TPR written back");
        Assert.AreEqual(9UL, m.Cpu.Cr8, "the write reached the APIC's TPR, which #VMEXIT does not restore");
    }

    [TestMethod]
    public void WithoutVIntrMaskingVTprStillGatesVirtualInterrupts()
    {
        // APM vol. 2, 15.21.2 and 15.21.4: V_TPR always controls virtual interrupts, whatever the APIC's TPR.
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.VIntr, 8, VIrq | Prio(5) | Vector(0x44) | 6);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, v.Rip, "V_INTR_PRIO 5 does not exceed V_TPR 6: not taken");
        Assert.AreEqual(6UL, v.Read(VmcbLayout.VIntr, 8) & 0xFF, "V_TPR unchanged");
        Assert.AreEqual(0UL, m.Cpu.Cr8, "the host's TPR is untouched");
    }
}
