using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// VMRUN loads the guest's CPL from the VMCB's CPL field, not from CS or SS (AMD APM vol. 2, 15.5.1,
/// "CPL"); #VMEXIT saves it there. The guest keeps that CPL until it loads CS.
/// </summary>
[TestClass]
public sealed class VmcbCplTests
{
    [TestMethod]
    public void AGuestWithVmcbCpl3AndRing0SegmentsIsAtCpl3()
    {
        using var m = new SvmTestMachine();
        // HLT needs CPL 0 (APM vol. 3, HLT): at CPL 3 it raises #GP(0), which the exception intercept turns into #VMEXIT 4Dh.
        m.GuestProgram(a => { a.hlt(); });
        m.Vmcb.Write(VmcbLayout.Cpl, 1, 3);
        m.Vmcb.InterceptException(ExceptionVector.GP);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        Assert.AreEqual(0UL, v.ExitInfo1, "#GP(0)");
        Assert.AreEqual(3UL, v.Read(VmcbLayout.Cpl, 1), "#VMEXIT saves CPL 3");
        Assert.AreEqual(0, m.Cpu.Cpl, "the host runs at CPL 0");
    }

    [TestMethod]
    public void AGuestWithVmcbCpl0RunsItsPrivilegedInstructions()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.hlt(); });
        m.Vmcb.Write(VmcbLayout.Cpl, 1, 0);
        m.Vmcb.InterceptException(ExceptionVector.GP);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.RunToExit(SvmExitCode.Hlt);
    }

    [TestMethod]
    public void AFarTransferDerivesCplFromTheNewCsAgain()
    {
        using var m = new SvmTestMachine();
        // At VMCB CPL 3 with ring-0 segments, a far JMP to the same ring-0 code segment is a JMP to a
        // more privileged non-conforming segment: #GP with the selector (APM vol. 3, JMP (Far)).
        m.GuestProgram(a => { a.jmp(SvmTestMachine.Code32, (uint)SvmTestMachine.GuestCode + 7); a.hlt(); });
        m.Vmcb.Write(VmcbLayout.Cpl, 1, 3);
        m.Vmcb.InterceptException(ExceptionVector.GP);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        Assert.AreEqual((ulong)(SvmTestMachine.Code32 & 0xFFFC), v.ExitInfo1);
    }
}
