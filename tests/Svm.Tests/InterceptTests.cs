using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// Each intercept triggered by a guest program under the interpreter, with EXITCODE (APM vol. 2,
/// appendix C), EXITINFO1/EXITINFO2, EXITINTINFO and nRIP (15.7.1) as the APM defines them.
/// </summary>
[TestClass]
public sealed class InterceptTests
{
    [TestMethod]
    public void CpuidExitsWithNextRip()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, 0x80000001); a.cpuid(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        var v = m.RunToExit(SvmExitCode.Cpuid);
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.Rip, "the guest RIP is the intercepted CPUID");
        Assert.AreEqual(SvmTestMachine.GuestCode + 7, v.NRip, "nRIP: the instruction after CPUID (2 bytes)");
        Assert.AreEqual(0x80000001UL, v.Rax);
        Assert.AreEqual(0UL, v.ExitIntInfo);
        Assert.AreEqual(SvmTestMachine.HostCode, m.Cpu.Rip, "the host resumes where it executed VMRUN");
        Assert.IsFalse(m.Cpu.GlobalInterruptFlag, "#VMEXIT clears GIF (15.6)");
        Assert.AreEqual(0, m.Cpu.TranslationTag, "the host's translations are tag 0");
    }
}
