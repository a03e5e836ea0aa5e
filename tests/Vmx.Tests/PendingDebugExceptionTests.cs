using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// The pending-debug-exceptions field a VM exit saves (SDM vol. 3, 27.3.4) and the priority of the
/// monitor trap flag over debug traps (25.5.2, 26.6.3), for the single step, the processor's only
/// debug trap.
/// </summary>
[TestClass]
public sealed class PendingDebugExceptionTests
{
    private const ulong G = VmxMachine.GuestCode;
    private const ulong Bs = 1UL << 14;
    private const ulong Tf = Rflags.TF;

    private static ulong Stub(int vector) => VmxMachine.StubAddress + (ulong)vector * 4;

    private static VmxMachine Guest(Action<Iced.Intel.Assembler> code)
    {
        var m = new VmxMachine().Ready();
        m.Code(code);
        return m;
    }

    private static VmExitInfo Resume(VmxMachine m)
    {
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        return m.RunToExit();
    }

    [TestMethod]
    public void ExitUnderMovSsBlockingSavesTheSingleStepOfTheMovSs()
    {
        // TF set by POPF traps after the instruction that follows it; MOV SS holds its own single
        // step across the next instruction (vol. 3, 6.8.3), and CPUID exits before it completes.
        using var m = Guest(a =>
        {
            a.mov(eax, ss);
            a.pushfq();
            a.or(__qword_ptr[rsp], (int)Tf);
            a.popfq();
            a.mov(ss, eax);
            a.cpuid();
            a.nop();
            a.hlt();
        });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason);
        var cpuid = m.Read(VmcsField.GuestRip);
        Assert.AreEqual(2UL, m.Read(VmcsField.GuestInterruptibilityState), "blocking by MOV SS");
        // 27.3.4: an exit other than a #DB's under MOV-SS blocking saves the debug exceptions pending then; BS with TF = 1 and BTF = 0.
        Assert.AreEqual(Bs, m.Read(VmcsField.GuestPendingDebugExceptions));
        Assert.AreEqual(0UL, m.Cpu.GetDebugRegister(6) & Bs, "the #DB was not delivered");

        // The VMM emulates CPUID and resumes with the state as saved: it passes the checks of 27.3.1.5
        // (TF = 1 and BTF = 0 with MOV-SS blocking need BS), and the #DB comes after the next instruction.
        m.Write(VmcsField.GuestRip, cpuid + 2);
        m.Write(VmcsField.ExceptionBitmap, 1 << 1);
        exit = Resume(m);
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000301u, exit.InterruptionInformation, "#DB, hardware exception");
        Assert.AreEqual(cpuid + 3, m.Read(VmcsField.GuestRip), "the single step trapped after the NOP");
        Assert.AreEqual(Bs, exit.ExitQualification & Bs, "the qualification reports BS (28.2.1)");
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestPendingDebugExceptions), "a #DB's own exit saves the field clear");
    }

    [TestMethod]
    public void ExitWithoutMovSsBlockingSavesTheFieldClear()
    {
        using var m = Guest(a => { a.cpuid(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1 | Tf);
        m.Write(VmcsField.GuestPendingDebugExceptions, Bs);
        m.Write(VmcsField.ExceptionBitmap, 1 << 1);
        // The pending BS is delivered before CPUID, as part of the entry, and exits through the bitmap (27.7.3).
        Assert.AreEqual(VmxResult.VmExit, m.Unit.Vmlaunch());
        var exit = m.Exits[^1];
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000301u, exit.InterruptionInformation);
        Assert.AreEqual(Bs, exit.ExitQualification);
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestPendingDebugExceptions), "a #DB's own exit saves the field clear");
        Assert.AreEqual(0UL, m.Cpu.GetDebugRegister(6) & Bs, "a #DB that exits leaves DR6 alone");
        m.Write(VmcsField.ExceptionBitmap, 0);
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1);
        exit = Resume(m);
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason);
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestPendingDebugExceptions), "27.3.4: clear for an ordinary exit");
    }

    [TestMethod]
    public void MonitorTrapFlagTakesPriorityOverTheSingleStep()
    {
        using var m = Guest(a => { a.nop(); a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1 | Tf);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.MonitorTrapFlag);
        var rsp = m.Read(VmcsField.GuestRsp);
        var exit = m.LaunchAndRun();
        // 25.5.2: MTF VM exits take priority over debug-trap exceptions; the trap stays pending (27.3.4).
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(G + 1, m.Read(VmcsField.GuestRip), "after the first NOP, not in the #DB handler");
        Assert.AreEqual(rsp, m.Read(VmcsField.GuestRsp), "no #DB frame was pushed");
        Assert.AreEqual(Bs, m.Read(VmcsField.GuestPendingDebugExceptions));
        Assert.AreEqual(0UL, m.Cpu.GetDebugRegister(6) & Bs, "DR6 is not touched by the overtaken #DB");

        // Resumed without the monitor trap flag, the pending #DB is delivered before the next instruction (27.7.3).
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, 0, ProcessorBasedControls.MonitorTrapFlag);
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1);
        exit = Resume(m);
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
        Assert.AreEqual(Stub(1), m.Read(VmcsField.GuestRip), "the #DB handler's HLT");
        Assert.AreEqual(G + 1, m.Memory.Read(m.Read(VmcsField.GuestRsp), 8), "the #DB returns to the second NOP");
        Assert.AreEqual(Bs, m.Cpu.GetDebugRegister(6) & Bs);
    }

    [TestMethod]
    public void InjectedPendingMtfComesBeforeThePendingDebugExceptions()
    {
        using var m = Guest(a => { a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1 | Tf);
        m.Write(VmcsField.GuestPendingDebugExceptions, Bs);
        m.Write(VmcsField.VmEntryInterruptionInformation, 0x80000000u | (7u << 8));
        var rsp = m.Read(VmcsField.GuestRsp);
        var exit = m.LaunchAndRun();
        // 26.6.3: pending MTF VM exits take priority over pending debug exceptions, which are still pending at the exit.
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(rsp, m.Read(VmcsField.GuestRsp), "no #DB was delivered");
        Assert.AreEqual(Bs, m.Read(VmcsField.GuestPendingDebugExceptions));
    }

    [TestMethod]
    public void MonitorTrapFlagAfterMovSsSavesItsHeldSingleStep()
    {
        using var m = Guest(a => { a.mov(eax, ss); a.mov(ss, eax); a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.MonitorTrapFlag);
        m.LaunchAndRun();
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1 | Tf);
        var exit = Resume(m);
        // The MTF exit after MOV SS: the MOV SS's single step is held by its blocking and saved (27.3.4).
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, exit.BasicReason);
        Assert.AreEqual(2UL, m.Read(VmcsField.GuestInterruptibilityState));
        Assert.AreEqual(Bs, m.Read(VmcsField.GuestPendingDebugExceptions));
    }

    [TestMethod]
    public void TprBelowThresholdSavesTheSingleStepOfItsMov()
    {
        using var m = Guest(a => { a.mov(eax, 2); a.mov(cr8, rax); a.hlt(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.UseTprShadow);
        m.Write(VmcsField.VirtualApicAddress, VmxMachine.VirtualApic);
        m.Memory.Write(VmxMachine.VirtualApic + 0x80, 4, 0x40);
        m.Write(VmcsField.TprThreshold, 4);
        m.Write(VmcsField.GuestRflags, Rflags.Reserved1 | Tf);
        m.Write(VmcsField.ExceptionBitmap, 1 << 1);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason, "the single step of MOV EAX");
        m.Write(VmcsField.GuestPendingDebugExceptions, 0);
        exit = Resume(m);
        // 27.3.4: a TPR-below-threshold exit (trap-like, past the MOV) saves the debug exceptions pending then: its single step.
        Assert.AreEqual(VmExitReason.TprBelowThreshold, exit.BasicReason);
        Assert.AreEqual(Bs, m.Read(VmcsField.GuestPendingDebugExceptions));
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip, "the guest's #DB did not reach the host");
    }

    [TestMethod]
    public void MonitorTrapFlagExitsAfterEachRepIteration()
    {
        using var m = Guest(a => { a.mov(ecx, 3); a.mov(edi, 0x60000); a.xor(eax, eax); a.rep.stosb(); a.hlt(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.MonitorTrapFlag);
        m.Memory.Write(0x60000, 4, 0xFFFFFFFF);
        m.LaunchAndRun();
        Resume(m);
        Resume(m);
        var rep = m.Read(VmcsField.GuestRip);
        Assert.AreEqual(3UL, m.Cpu.Rcx);
        // 25.5.2: with the monitor trap flag, an MTF VM exit is pending after each iteration of a REP string instruction.
        for (var left = 2UL; left > 0; left--)
        {
            Assert.AreEqual(VmExitReason.MonitorTrapFlag, Resume(m).BasicReason);
            Assert.AreEqual(rep, m.Read(VmcsField.GuestRip), "RIP stays on the REP STOSB between iterations");
            Assert.AreEqual(left, m.Cpu.Rcx);
            Assert.AreEqual(0xFFFFFFFFUL >> (int)(8 * (3 - left)) << (int)(8 * (3 - left)), m.Memory.Read(0x60000, 4), "one byte stored per iteration");
        }
        Assert.AreEqual(VmExitReason.MonitorTrapFlag, Resume(m).BasicReason);
        Assert.AreEqual(rep + 2, m.Read(VmcsField.GuestRip), "after the last iteration RIP moves past");
        Assert.AreEqual(0UL, m.Cpu.Rcx);
    }
}
