using Sim.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>INIT and SIPI under VMX (SDM vol. 3, 24.8: INIT is blocked in VMX root operation; 26.2: INIT and SIPI exits in non-root operation).</summary>
[TestClass]
public sealed class InitAndSipiExitTests
{
    private static VmxMachine Looping()
    {
        var m = new VmxMachine().Ready();
        m.Code(a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(rbx);
            a.jmp(loop);
        });
        return m;
    }

    [TestMethod]
    public void InitInNonRootOperationCausesAnInitSignalExit()
    {
        using var m = Looping();
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Cpu.Run(m.Cpu.Cycles + 500);
        Assert.IsTrue(m.Unit.InNonRootOperation);
        m.Cpu.RaiseInit();
        var exit = m.RunToExit();
        Assert.AreEqual((uint)VmExitReason.InitSignal, exit.ExitReason, "exit reason 3");
        Assert.AreEqual(0UL, exit.ExitQualification);
        Assert.IsTrue(m.Unit.InVmxOperation, "the host is back in VMX root operation, not reset");
        Assert.IsTrue(m.Cpu.InLongMode);
        Assert.IsFalse(m.Cpu.InitPending, "the INIT was consumed by the exit");
    }

    [TestMethod]
    public void InitIsBlockedInVmxRootOperationAndDeliveredAfterVmxoff()
    {
        using var m = Looping();
        m.Cpu.RaiseInit();
        m.Cpu.Run(m.Cpu.Cycles);
        Assert.IsTrue(m.Cpu.InitPending, "blocked in VMX root operation");
        Assert.IsTrue(m.Cpu.InLongMode);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxoff());
        m.Cpu.Run(m.Cpu.Cycles);
        Assert.IsFalse(m.Cpu.InitPending);
        Assert.IsFalse(m.Cpu.InProtectedMode, "INIT took effect once VMX operation ended");
        Assert.AreEqual(0xFFF0UL, m.Cpu.Rip);
    }

    [TestMethod]
    public void SipiToAGuestWaitingForSipiCausesAStartupIpiExitWithTheVector()
    {
        using var m = Looping();
        // Activity state 3 (wait-for-SIPI) is allowed by IA32_VMX_MISC bit 8 (A.6).
        m.Write(VmcsField.GuestActivityState, (ulong)ActivityState.WaitForSipi);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 500), "the guest waits");
        Assert.AreEqual(0UL, m.Cpu.Rbx, "nothing ran");
        m.Cpu.RaiseStartupIpi(0x9C);
        var exit = m.RunToExit();
        Assert.AreEqual((uint)VmExitReason.StartupIpi, exit.ExitReason, "exit reason 4");
        Assert.AreEqual(0x9CUL, exit.ExitQualification, "the SIPI vector in bits 7:0 (28.2.1)");
        Assert.AreEqual((ulong)ActivityState.WaitForSipi, m.Read(VmcsField.GuestActivityState), "the guest still waits for SIPI");
    }

    [TestMethod]
    public void WaitForSipiBlocksWindowAndPreemptionTimerExits()
    {
        // 25.4.2 (activity state) and 26.7.5/26.7.6: in the wait-for-SIPI state external interrupts and NMIs
        // are blocked, so no interrupt- or NMI-window opens; 26.5.1: the VMX-preemption timer causes no VM exit
        // in that state. Only the SIPI ends the wait.
        using var m = Looping();
        m.Write(VmcsField.GuestActivityState, (ulong)ActivityState.WaitForSipi);
        m.Write(VmcsField.GuestRflags, 0x202);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.InterruptWindowExiting);
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ActivateVmxPreemptionTimer);
        m.Write(VmcsField.VmxPreemptionTimerValue, 1);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Cpu.Run(m.Cpu.Cycles + 5000);
        Assert.AreEqual(0, m.Exits.Count, "no VM exit while waiting for SIPI");
        Assert.IsTrue(m.Unit.InNonRootOperation);
        m.Cpu.RaiseStartupIpi(0x9C);
        Assert.AreEqual((uint)VmExitReason.StartupIpi, m.RunToExit().ExitReason);
    }
}
