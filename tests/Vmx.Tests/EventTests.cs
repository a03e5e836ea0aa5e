using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// Event injection of every type (SDM vol. 3, 27.6), external interrupts and NMIs in non-root
/// operation (26.2), interrupt and NMI windows, virtual NMIs, the VMX-preemption timer and the
/// monitor trap flag (26.7), and IDT-vectoring information (28.2.4).
/// </summary>
[TestClass]
public sealed class EventTests
{
    private const ulong G = VmxMachine.GuestCode;

    private static VmxMachine Guest(Action<Iced.Intel.Assembler> code)
    {
        var m = new VmxMachine().Ready();
        m.Code(code);
        return m;
    }

    private static ulong Stub(int vector) => VmxMachine.StubAddress + (ulong)vector * 4;

    private static void Inject(VmxMachine m, int vector, int type, uint? error = null, int length = 0)
    {
        m.Write(VmcsField.VmEntryInterruptionInformation, 0x80000000u | (uint)vector | ((uint)type << 8) | (error.HasValue ? 0x800u : 0));
        m.Write(VmcsField.VmEntryExceptionErrorCode, error ?? 0);
        m.Write(VmcsField.VmEntryInstructionLength, (ulong)length);
    }

    /// <summary>The 64-bit interrupt frame the guest handler got: (error code if any), RIP, CS, RFLAGS.</summary>
    private static ulong Frame(VmxMachine m, int index) => m.Memory.Read(m.Read(VmcsField.GuestRsp) + (ulong)index * 8, 8);

    [TestMethod]
    public void InjectedHardwareExceptionWithErrorCode()
    {
        using var m = Guest(a => a.hlt());
        Inject(m, 13, 3, 0x1234);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
        Assert.AreEqual(Stub(13), m.Read(VmcsField.GuestRip), "delivered through the guest IDT to vector 13's handler");
        Assert.AreEqual(0x1234UL, Frame(m, 0), "the error code pushed");
        Assert.AreEqual(G, Frame(m, 1), "a fault's saved RIP is the guest RIP of the entry");
        Assert.AreEqual(0UL, m.Read(VmcsField.VmEntryInterruptionInformation) & 0x80000000, "the next VM exit clears the valid bit (27.6.1)");
    }

    [TestMethod]
    public void InjectedErrorCodeMayHaveBit15Set()
    {
        // 27.2.1.3: with the deliver-error-code bit set, only bits 31:16 of the VM-entry exception error code must be 0
        // (bit 15 is the SGX bit of a #PF error code).
        using var m = Guest(a => a.hlt());
        Inject(m, 14, 3, 0x8002);
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
        Assert.AreEqual(Stub(14), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0x8002UL, Frame(m, 0), "the error code pushed");
    }

    [TestMethod]
    public void InjectedExternalInterrupt()
    {
        using var m = Guest(a => a.hlt());
        m.Write(VmcsField.GuestRflags, 0x202);
        Inject(m, 0x40, 0);
        m.LaunchAndRun();
        Assert.AreEqual(Stub(0x40), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(G, Frame(m, 0));
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestRflags) & Rflags.IF, "the interrupt gate cleared IF");
    }

    [TestMethod]
    public void InjectedNmiBlocksFurtherNmis()
    {
        using var m = Guest(a => a.hlt());
        Inject(m, 2, 2);
        m.LaunchAndRun();
        Assert.AreEqual(Stub(2), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(8UL, m.Read(VmcsField.GuestInterruptibilityState) & 8, "blocking by NMI saved on exit (28.3.1.5)");
    }

    [TestMethod]
    public void InjectedSoftwareEventsReturnPastTheInstruction()
    {
        foreach (var (vector, type, length) in new[] { (0x30, 4, 2), (1, 5, 1), (3, 6, 1) })
        {
            using var m = Guest(a => a.hlt());
            Inject(m, vector, type, null, length);
            m.LaunchAndRun();
            Assert.AreEqual(Stub(vector), m.Read(VmcsField.GuestRip), $"type {type}");
            Assert.AreEqual(G + (ulong)length, Frame(m, 0), $"type {type}: saved RIP is RIP + VM-entry instruction length");
        }
    }

    [TestMethod]
    public void InjectionWakesAHaltedGuest()
    {
        using var m = Guest(a => a.hlt());
        m.Write(VmcsField.GuestActivityState, 1);
        m.Write(VmcsField.GuestRflags, 0x202);
        Inject(m, 0x41, 0);
        m.LaunchAndRun();
        Assert.AreEqual(Stub(0x41), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestActivityState), "active: the exit came from the handler's HLT after the guest woke");
    }

    [TestMethod]
    public void HaltedGuestWithoutEventsStaysHalted()
    {
        using var m = Guest(a => a.nop());
        m.Write(VmcsField.GuestActivityState, 1);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 1000));
        Assert.AreEqual(ActivityState.Hlt, m.Cpu.Activity);
        Assert.AreEqual(G, m.Cpu.Rip);
    }

    [TestMethod]
    public void FaultDuringInjectedEventDeliveryReportsIdtVectoring()
    {
        using var m = Guest(a => a.hlt());
        m.Write(VmcsField.GuestRflags, 0x202);
        m.Write(VmcsField.GuestIdtrLimit, 0x3FF);
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        Inject(m, 0x40, 0);
        Assert.AreEqual(VmxResult.VmExit, m.Unit.Vmlaunch(), "the injected event's delivery exits during VMLAUNCH");
        var exit = m.Exits.Single();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000B0Du, exit.InterruptionInformation);
        Assert.AreEqual(0x40u * 8 + 2 + 1, exit.InterruptionErrorCode, "#GP(IDT, EXT) for a vector beyond the IDT limit");
        Assert.AreEqual(0x80000040u, exit.IdtVectoringInformation, "the external interrupt being delivered (28.2.4)");
    }

    [TestMethod]
    public void ExternalInterruptExitingWithAcknowledge()
    {
        using var m = Guest(a => { a.nop(); a.jmp(G); });
        var pic = new TestInterruptSource { Vector = 0x41 };
        m.Cpu.InterruptSource = pic;
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ExternalInterruptExiting);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.AcknowledgeInterruptOnExit);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExternalInterrupt, exit.BasicReason, "exits even with guest RFLAGS.IF = 0 (26.2)");
        Assert.AreEqual(0x80000041u, exit.InterruptionInformation, "acknowledged on exit: vector in the interruption information");
        Assert.AreEqual(1, pic.Acknowledged);
        Assert.IsFalse(m.Cpu.InterruptFlagIgnored);
    }

    [TestMethod]
    public void AcknowledgeOnExitTakesTheVectorFromTheLocalApic()
    {
        // SDM 27.2.2 with the processor's own local APIC: the acknowledge on exit moves the vector
        // from the IRR to the ISR, so the host's EOI ends it; the exit's interruption information carries it.
        using var m = Guest(a => { a.nop(); a.jmp(G); });
        var apic = new Sim.Platform.Apic.LocalApic(m.Cpu, new Sim.Platform.Apic.ApicBus(), new Sim.Platform.Time.MachineClock());
        m.Cpu.LocalApic = apic;
        m.Cpu.InterruptSource = apic;
        apic.WriteRegister(0xF0, 4, 0x1FF);
        apic.Accept(new Sim.Platform.Apic.InterruptMessage(0x55, Sim.Platform.Apic.DeliveryMode.Fixed, false, 0, false));
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ExternalInterruptExiting);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.AcknowledgeInterruptOnExit);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExternalInterrupt, exit.BasicReason);
        Assert.AreEqual(0x80000055u, exit.InterruptionInformation);
        Assert.AreEqual(0u, apic.ReadRegister(0x220, 4) & (1u << (0x55 - 64)), "no longer requested");
        Assert.AreNotEqual(0u, apic.ReadRegister(0x120, 4) & (1u << (0x55 - 64)), "in service until the host's EOI");
        apic.WriteRegister(0xB0, 4, 0);
        Assert.AreEqual(0u, apic.ReadRegister(0x120, 4) & (1u << (0x55 - 64)));
    }

    [TestMethod]
    public void ExternalInterruptExitingWithoutAcknowledge()
    {
        using var m = Guest(a => { a.nop(); a.jmp(G); });
        var pic = new TestInterruptSource { Vector = 0x41 };
        m.Cpu.InterruptSource = pic;
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ExternalInterruptExiting);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExternalInterrupt, exit.BasicReason);
        Assert.AreEqual(0u, exit.InterruptionInformation & 0x80000000, "not acknowledged: no valid vector");
        Assert.AreEqual(0, pic.Acknowledged);
    }

    [TestMethod]
    public void NmiExiting()
    {
        using var m = Guest(a => { a.nop(); a.jmp(G); });
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.NmiExiting);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Cpu.RaiseNmi();
        var exit = m.RunToExit();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000202u, exit.InterruptionInformation, "vector 2, type 2 (NMI)");
    }

    [TestMethod]
    public void InterruptWindowOpensAfterTheStiShadow()
    {
        using var m = Guest(a => { a.sti(); a.nop(); a.nop(); a.hlt(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.InterruptWindowExiting);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.InterruptWindow, exit.BasicReason);
        Assert.AreEqual(G + 2, m.Read(VmcsField.GuestRip), "IF = 1 and no blocking by STI: before the second NOP (26.7.5)");
    }

    [TestMethod]
    public void NmiWindowOpensWhenIretEndsVirtualNmiBlocking()
    {
        const ulong target = G + 0x40;
        using var m = Guest(a =>
        {
            a.mov(rax, rsp);
            a.push(VmxMachine.DataSelector);
            a.push(rax);
            a.pushfq();
            a.push(VmxMachine.CodeSelector);
            a.push((int)target);
            a.iretq();
        });
        m.Code(a => { a.nop(); a.hlt(); }, target);
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.NmiExiting | PinBasedControls.VirtualNmis);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.NmiWindowExiting);
        m.Write(VmcsField.GuestInterruptibilityState, 8);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.NmiWindow, exit.BasicReason, "IRET ends virtual-NMI blocking (26.3), opening the NMI window");
        Assert.AreEqual(target, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestInterruptibilityState) & 8);
    }

    [TestMethod]
    public void PreemptionTimerExpires()
    {
        using var m = Guest(a => { a.nop(); a.jmp(G); });
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ActivateVmxPreemptionTimer);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.SaveVmxPreemptionTimerValue);
        m.Write(VmcsField.VmxPreemptionTimerValue, 10);
        var start = m.Cpu.Cycles;
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.VmxPreemptionTimerExpired, exit.BasicReason);
        var elapsed = m.Cpu.Cycles - start;
        Assert.IsTrue(elapsed >= 10UL << VmxCapability.PreemptionTimerRate, "counts down once per 2^rate TSC ticks (IA32_VMX_MISC bits 4:0)");
        Assert.AreEqual(0UL, m.Read(VmcsField.VmxPreemptionTimerValue), "saved as 0 on the timer's exit");
    }

    [TestMethod]
    public void PreemptionTimerZeroExitsBeforeTheFirstInstruction()
    {
        using var m = Guest(a => { a.mov(eax, 1); a.hlt(); });
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ActivateVmxPreemptionTimer);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.VmxPreemptionTimerExpired, exit.BasicReason);
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void MonitorTrapFlagExitsAfterOneInstruction()
    {
        using var m = Guest(a => { a.nop(); a.nop(); a.hlt(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.MonitorTrapFlag);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(G + 1, m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void PendingDebugExceptionDeliversDb()
    {
        using var m = Guest(a => a.hlt());
        m.Write(VmcsField.GuestPendingDebugExceptions, 1 | 1 << 12);
        m.LaunchAndRun();
        Assert.AreEqual(Stub(1), m.Read(VmcsField.GuestRip), "B0 and enabled breakpoint pending: #DB before the first instruction (27.7.3)");
        Assert.AreEqual(1UL, m.Cpu.GetDebugRegister(6) & 1);
    }

    [TestMethod]
    public void PendingB0WithoutEnabledBreakpointIsNoDebugException()
    {
        // 27.7.3: pending debug exceptions are valid only with BS (bit 14) or enabled breakpoint (bit 12) set.
        using var m = Guest(a => a.hlt());
        m.Write(VmcsField.GuestPendingDebugExceptions, 1);
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
    }

    /// <summary>An IRETQ to CS 40h, beyond the GDT limit: #GP(40h) during the IRET.</summary>
    private static void IretToABadSelector(Iced.Intel.Assembler a)
    {
        a.mov(rax, rsp);
        a.push(VmxMachine.DataSelector);
        a.push(rax);
        a.pushfq();
        a.push(0x40);
        a.push((int)G);
        a.iretq();
    }

    [TestMethod]
    public void FaultDuringIretReportsNmiUnblocking()
    {
        using var m = Guest(IretToABadSelector);
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.NmiExiting | PinBasedControls.VirtualNmis);
        m.Write(VmcsField.GuestInterruptibilityState, 8);
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000B0Du | (1u << 12), exit.InterruptionInformation, "#GP during an IRET that unblocked virtual NMIs: bit 12 (28.2.3)");
        Assert.AreEqual(0x40u, exit.InterruptionErrorCode, "selector 40h is beyond the GDT limit");
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestInterruptibilityState) & 8, "virtual-NMI blocking was cleared before the exit");
    }

    [TestMethod]
    public void FaultDuringIretWithoutNmiExitingClearsNmiBlocking()
    {
        // 28.1: a VM exit from a fault during IRET with "NMI exiting" = 0 clears blocking by NMI before
        // the exit commences; 28.2.3: bit 12 of the exit interruption information records the unblocking.
        using var m = Guest(IretToABadSelector);
        m.Write(VmcsField.GuestInterruptibilityState, 8);
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000B0Du | (1u << 12), exit.InterruptionInformation);
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestInterruptibilityState) & 8, "blocking by NMI was cleared before the exit");
    }

    [TestMethod]
    public void PreemptionTimerCountsDownInHlt()
    {
        using var m = Guest(a => a.nop());
        m.Write(VmcsField.GuestActivityState, 1);
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ActivateVmxPreemptionTimer);
        m.Write(VmcsField.VmxPreemptionTimerValue, 4);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.VmxPreemptionTimerExpired, exit.BasicReason, "the timer runs in HLT and its exit wakes the processor (26.5.1)");
        Assert.AreEqual(1UL, m.Read(VmcsField.GuestActivityState), "the guest was halted when the timer expired");
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void InjectedOtherEventMakesAnMtfVmExitPending()
    {
        // 27.6.2: interruption type 7 (other event) with vector 0 makes an MTF VM exit pending on the
        // instruction boundary after VM entry, even with the "monitor trap flag" control 0.
        using var m = Guest(a => { a.nop(); a.hlt(); });
        Inject(m, 0, 7);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip), "nothing was delivered and no guest instruction executed");
        Assert.AreEqual(0u, exit.IdtVectoringInformation);

        // The pending MTF VM exit belongs to that one entry.
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        Assert.AreEqual(VmExitReason.Hlt, m.RunToExit().BasicReason);
    }

    [TestMethod]
    public void InterruptWindowWakesAGuestEnteredInHlt()
    {
        // 26.7.5: with "interrupt-window exiting", a VM exit occurs before any instruction when RFLAGS.IF = 1 and
        // nothing blocks by STI or MOV SS; it occurs right after a VM entry that leaves the guest in HLT (27.7.5).
        using var m = Guest(a => a.nop());
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.InterruptWindowExiting);
        m.Write(VmcsField.GuestRflags, 0x202);
        m.Write(VmcsField.GuestActivityState, 1);
        var exit = m.LaunchAndRun(cycles: 10_000);
        Assert.AreEqual(VmExitReason.InterruptWindow, exit.BasicReason);
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void WithNmiExitingIretLeavesBlockingByNmi()
    {
        // 27.7.1: with "virtual NMIs" 0, blocking by NMI loaded at entry remains in effect as long as the processor
        // is in non-root operation when "NMI exiting" is 1; 26.3: IRET then does not affect blocking of NMIs.
        using var m = Guest(a =>
        {
            var done = a.CreateLabel();
            a.mov(rax, rsp);
            a.push(VmxMachine.DataSelector);
            a.push(rax);
            a.pushfq();
            a.push(VmxMachine.CodeSelector);
            a.lea(rbx, __[done]);
            a.push(rbx);
            a.iretq();
            a.Label(ref done);
            a.hlt();
        });
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.NmiExiting);
        m.Write(VmcsField.GuestInterruptibilityState, 8);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason, "the IRET completed");
        Assert.AreEqual(8UL, m.Read(VmcsField.GuestInterruptibilityState) & 8, "blocking by NMI is still in effect");
    }

    private static VmxMachine MtfGuest(Action<Iced.Intel.Assembler> code)
    {
        var m = Guest(code);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.MonitorTrapFlag);
        return m;
    }

    [TestMethod]
    public void MonitorTrapFlagAfterAnInjectedEventExitsBeforeTheHandler()
    {
        // 26.7.2: with the monitor trap flag and a vectored event injected, an MTF VM exit is pending on the
        // boundary before the first instruction following the VM entry (the handler's first instruction).
        using var m = MtfGuest(a => { a.nop(); a.hlt(); });
        Inject(m, 6, 3);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(Stub(6), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0u, exit.IdtVectoringInformation, "the delivery completed");
    }

    [TestMethod]
    public void MonitorTrapFlagAfterAFaultExitsAfterItsDelivery()
    {
        // 26.7.2: if the first instruction after VM entry causes a fault, the MTF VM exit is pending on the
        // boundary following the delivery of the fault.
        using var m = MtfGuest(a => { a.ud2(); a.hlt(); });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(Stub(6), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(G, Frame(m, 0), "#UD delivered with the faulting RIP");
    }

    [TestMethod]
    public void MonitorTrapFlagAfterAPendingDebugExceptionExitsAfterItsDelivery()
    {
        // 26.7.2: with no event injected, a pending event (here the #DB of the pending debug exceptions, 27.7.3)
        // delivered before an instruction executes makes the MTF VM exit pending after its delivery.
        using var m = MtfGuest(a => { a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestPendingDebugExceptions, 1 | 1 << 12);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(Stub(1), m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void VectoringEntryLeavesNoBlockingByStiOrMovSs()
    {
        // 27.7.1: if the VM entry is vectoring, there is no blocking by STI or by MOV SS after it, whatever the
        // interruptibility-state field says.
        using var m = MtfGuest(a => { a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, 0x202);
        m.Write(VmcsField.GuestInterruptibilityState, 1);
        Inject(m, 6, 3);
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, m.LaunchAndRun().BasicReason);
        Assert.AreEqual(Stub(6), m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestInterruptibilityState) & 3);
    }

    [TestMethod]
    public void PendingNmiTakesPriorityOverTheInterruptWindow()
    {
        // 26.7.5: NMIs and higher-priority events take priority over interrupt-window VM exits; with
        // "NMI exiting" the pending NMI causes its own VM exit first.
        using var m = Guest(a => { a.nop(); a.hlt(); });
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.NmiExiting);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.InterruptWindowExiting);
        m.Write(VmcsField.GuestRflags, 0x202);
        m.Cpu.NmiPending = true;
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000202u, exit.InterruptionInformation);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        Assert.AreEqual(VmExitReason.InterruptWindow, m.RunToExit().BasicReason, "the window exit follows");
    }
}
