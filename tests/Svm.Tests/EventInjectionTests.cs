using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>EVENTINJ (AMD APM vol. 2, 15.20): each event type delivered through the guest IDT before its first instruction.</summary>
[TestClass]
public sealed class EventInjectionTests
{
    private static SvmTestMachine Machine(ulong eventInj)
    {
        var m = new SvmTestMachine();
        m.GuestProgram(a => { a.nop(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.EventInj, 8, eventInj);
        return m;
    }

    private static ulong Stack(SvmTestMachine m, int slot) => m.Memory.Read(m.Vmcb.Read(VmcbLayout.Rsp, 8) + (ulong)slot * 4, 4);

    [TestMethod]
    public void ExternalInterruptIsDeliveredWithoutErrorCode()
    {
        using var m = Machine(SvmEventInjection.Encode(0x30, SvmEventInjection.TypeIntr, 0, false));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x30, m.GuestStubVector(v.Rip), "the guest's handler for 30h runs first");
        Assert.AreEqual(SvmTestMachine.GuestCode, Stack(m, 0), "return EIP: the guest's first instruction");
        Assert.AreEqual(SvmTestMachine.GuestStack - 12, v.Read(VmcbLayout.Rsp, 8), "EIP, CS, EFLAGS pushed, no error code");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.EventInj, 8) & SvmEventInjection.Valid, "#VMEXIT clears EVENTINJ.V");
    }

    [TestMethod]
    public void NmiIsDeliveredThroughVector2()
    {
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.NMI, SvmEventInjection.TypeNmi, 0, false));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.NMI, m.GuestStubVector(v.Rip));
        Assert.IsFalse(m.Cpu.NmiBlocked, "an injected NMI does not block delivery of further NMIs (APM vol. 2, 15.20)");
    }

    [TestMethod]
    public void InjectedNmiIgnoresTheVectorField()
    {
        // APM vol. 2, 15.20 (EVENTINJ, VECTOR): if TYPE is 2 (NMI), the VECTOR field is ignored; an NMI goes through IDT vector 2.
        using var m = Machine(SvmEventInjection.Encode(0x40, SvmEventInjection.TypeNmi, 0, false));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.NMI, m.GuestStubVector(v.Rip), "the guest's NMI handler, not vector 40h");
    }

    [TestMethod]
    public void ANmiRaisedInTheHandlerOfAnInjectedNmiIsTaken()
    {
        // APM vol. 2, 15.20: an injected NMI does not block delivery of further NMIs, so a physical
        // NMI that arrives in the handler of an injected one is intercepted at once.
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.NMI, SvmEventInjection.TypeNmi, 0, false));
        m.Vmcb.Intercept(SvmIntercept.Nmi);
        m.Memory.Write(SvmTestMachine.GuestStubs + ExceptionVector.NMI * 4, 1, 0x90);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.RaiseNmi();
        m.Cpu.Run(m.Cpu.Cycles + 10_000);
        var v = m.Vmcb;
        Assert.AreEqual(SvmExitCode.Nmi, v.ExitCode, "the second NMI is not blocked by the injected one");
    }

    [TestMethod]
    public void BoundRangeExceptionIsInjectedOutside64BitMode()
    {
        // APM vol. 2, 15.20: only in 64-bit mode is #BR impossible; a 32-bit guest takes it.
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.BR, SvmEventInjection.TypeException, 0, false));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.BR, m.GuestStubVector(v.Rip));
    }

    [TestMethod]
    public void ExceptionPushesItsErrorCodeWhenEvIsSet()
    {
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.GP, SvmEventInjection.TypeException, 0x1234, true));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.GP, m.GuestStubVector(v.Rip));
        Assert.AreEqual(0x1234UL, Stack(m, 0), "the error code on top of the stack");
        Assert.AreEqual(SvmTestMachine.GuestCode, Stack(m, 1));
    }

    [TestMethod]
    public void ExceptionWithoutEvPushesNoErrorCode()
    {
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.UD, SvmEventInjection.TypeException, 0, false));
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.UD, m.GuestStubVector(v.Rip));
        Assert.AreEqual(SvmTestMachine.GuestCode, Stack(m, 0));
    }

    [TestMethod]
    public void SoftwareInterruptReturnsToTheVmcbRip()
    {
        using var m = Machine(SvmEventInjection.Encode(0x80, SvmEventInjection.TypeSoftwareInterrupt, 0, false));
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode + 1);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x80, m.GuestStubVector(v.Rip));
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, Stack(m, 0), "the VMM advanced RIP past the INT n it emulates");
    }

    [TestMethod]
    public void SoftwareInterruptReturnsToNripWhenTheVmmLeftRipAtTheInstruction()
    {
        using var m = Machine(SvmEventInjection.Encode(0x80, SvmEventInjection.TypeSoftwareInterrupt, 0, false));
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.NRip, 8, SvmTestMachine.GuestCode + 1);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x80, m.GuestStubVector(v.Rip));
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, Stack(m, 0), "with NRIP save, delivery advances RIP to NRIP (15.7.1, 15.20)");
    }

    [TestMethod]
    public void FaultWhileInjectingExitsWithTheEventInExitIntInfo()
    {
        var injected = SvmEventInjection.Encode(0x50, SvmEventInjection.TypeIntr, 0, false);
        using var m = Machine(injected);
        m.Vmcb.Segment(VmcbLayout.Idtr, 0, 0, 0x50 * 8 - 1, SvmTestMachine.GuestIdt32);
        m.Vmcb.InterceptException(ExceptionVector.GP);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        Assert.AreEqual(injected, v.ExitIntInfo, "EXITINTINFO holds the event whose delivery faulted (15.7.2)");
        Assert.AreEqual(0x50UL * 8 + 2 + 1, v.ExitInfo1, "#GP(IDT entry 50h, EXT)");
        Assert.AreEqual(SvmTestMachine.GuestCode, v.Rip);
    }

    [TestMethod]
    public void InjectionWakesAHaltedGuestAtItsNextInstruction()
    {
        using var m = Machine(0);
        m.GuestProgram(a => { a.hlt(); a.hlt(); });
        m.Vmcb.ClearIntercept(SvmIntercept.Hlt);
        m.Vmcb.Intercept(SvmIntercept.Intr);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 100);
        Assert.IsTrue(m.Unit.InGuest, "the guest sleeps in HLT");
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, m.Cpu.Rip);
    }

    [TestMethod]
    public void Int3StyleExceptionReturnsToNripWhenTheVmmLeftRipAtTheInstruction()
    {
        // APM vol. 2, 15.20: TYPE 3 with vector 3 behaves like the trap INT3 raises, which returns past
        // the instruction; as for INTn, NextRIP (15.7.1) gives that address when RIP is still at it.
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.BP, SvmEventInjection.TypeException, 0, false));
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.NRip, 8, SvmTestMachine.GuestCode + 1);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.BP, m.GuestStubVector(v.Rip));
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, Stack(m, 0), "the return address is past the INT3");
    }

    [TestMethod]
    public void Int3AndIntoStyleExceptionsCheckTheGateDpl()
    {
        // APM vol. 2, 15.20: injecting TYPE 3 with vector 3 or 4 checks the DPL of the IDT descriptor,
        // as INT3 and INTO do: at CPL 3 a DPL-0 gate gives #GP(vector * 8 + 2), which is subject to
        // the exception intercept, with the injected event in EXITINTINFO.
        foreach (var vector in new[] { ExceptionVector.BP, ExceptionVector.OF })
        {
            var injected = SvmEventInjection.Encode(vector, SvmEventInjection.TypeException, 0, false);
            using var m = Machine(injected);
            m.Vmcb.Segment(VmcbLayout.Cs, SvmTestMachine.Code32 | 3, 0xCFB, 0xFFFFFFFF, 0);
            m.Vmcb.Segment(VmcbLayout.Ss, SvmTestMachine.Data | 3, 0xCF3, 0xFFFFFFFF, 0);
            // The guest's CPL is the VMCB's CPL field (15.5.1), not CS.DPL or SS.DPL.
            m.Vmcb.Write(VmcbLayout.Cpl, 1, 3);
            m.Memory.Write(SvmTestMachine.GuestIdt32 + (ulong)vector * 8, 8, SvmTestMachine.Gate(SvmTestMachine.Code32, SvmTestMachine.GuestStubs + (ulong)vector * 4, 0xE, 0));
            m.Vmcb.InterceptException(ExceptionVector.GP);
            var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
            Assert.AreEqual((ulong)vector * 8 + 2, v.ExitInfo1, $"vector {vector}: #GP(IDT entry, EXT clear)");
            Assert.AreEqual(injected, v.ExitIntInfo, $"vector {vector}: the injected event in EXITINTINFO (15.7.2)");
        }
    }

    [TestMethod]
    public void Int3StyleExceptionReturnsToTheVmcbRip()
    {
        using var m = Machine(SvmEventInjection.Encode(ExceptionVector.BP, SvmEventInjection.TypeException, 0, false));
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode + 1);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.BP, m.GuestStubVector(v.Rip));
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, Stack(m, 0), "type 3 with vector 3 behaves like a trap from INT3 (15.20): the saved RIP is the VMCB's");
    }

    [TestMethod]
    public void PhysicalInterruptWakesAHaltedGuestIntoAnIntrExit()
    {
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource();
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.sti(); a.hlt(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Intr);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 100);
        Assert.AreEqual(ActivityState.Hlt, m.Cpu.Activity);
        source.Vector = 0x40;
        m.Cpu.NotifyInterrupt();
        m.Cpu.Run(m.Cpu.Cycles + 100);
        Assert.AreEqual(SvmExitCode.Intr, m.Vmcb.ExitCode);
        Assert.AreEqual(SvmTestMachine.GuestCode + 2, m.Vmcb.Rip, "the guest RIP is past its HLT");
        Assert.AreEqual(ActivityState.Active, m.Cpu.Activity, "the host runs");
    }
}
