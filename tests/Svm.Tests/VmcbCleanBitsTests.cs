using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>VMCB clean bits (AMD APM vol. 2, 15.15.3): a clean group may come from the processor's cache, a dirty one is reloaded.</summary>
[TestClass]
public sealed class VmcbCleanBitsTests
{
    private static SvmTestMachine Cr2Guest()
    {
        var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, cr2); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.Cr2, 8, 0x1111);
        Assert.AreEqual(0x1111UL, m.RunToExit(SvmExitCode.Hlt).Rax);
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.Cr2, 8, 0x2222);
        return m;
    }

    [TestMethod]
    public void CleanFieldIsTakenFromTheCacheForTheSameVmcb()
    {
        using var m = Cr2Guest();
        m.Vmcb.Write(VmcbLayout.VmcbClean, 4, (ulong)VmcbCleanBits.Cr2);
        Assert.AreEqual(0x1111UL, m.RunToExit(SvmExitCode.Hlt).Rax, "CR2 marked clean: the cached value, not the new VMCB contents");
    }

    [TestMethod]
    public void DirtyFieldIsReloaded()
    {
        using var m = Cr2Guest();
        m.Vmcb.Write(VmcbLayout.VmcbClean, 4, (ulong)(VmcbCleanBits.I | VmcbCleanBits.Seg | VmcbCleanBits.CrX));
        Assert.AreEqual(0x2222UL, m.RunToExit(SvmExitCode.Hlt).Rax, "the CR2 bit is clear: reloaded from the VMCB");
    }

    [TestMethod]
    public void CleanBitsAreIgnoredForAnotherVmcb()
    {
        using var m = Cr2Guest();
        m.BaselineGuest(SvmTestMachine.SecondVmcbPa);
        var second = new Vmcb(m.Memory, SvmTestMachine.SecondVmcbPa);
        second.Intercept(SvmIntercept.Hlt);
        second.Write(VmcbLayout.Cr2, 8, 0x3333);
        second.Write(VmcbLayout.VmcbClean, 4, 0xFFFFFFFF);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.SecondVmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 10_000);
        Assert.AreEqual(0x3333UL, second.Rax, "a VMCB other than the last one run is read in full");
    }

    [TestMethod]
    public void CleanInterceptVectorKeepsTheCachedIntercepts()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.cpuid(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.RunToExit(SvmExitCode.Hlt);
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.VmcbClean, 4, (ulong)VmcbCleanBits.I);
        m.RunToExit(SvmExitCode.Hlt);
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.VmcbClean, 4, 0);
        m.RunToExit(SvmExitCode.Cpuid);
    }
}
