using Sim.Cpu;
using Sim.Cpu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>Several processors, each with its own SVM unit and state (AMD APM vol. 2, 15.1: SVM state is per processor).</summary>
[TestClass]
public sealed class MultiprocessorTests
{
    [TestMethod]
    public void TwoProcessorsRunTheirGuestsInterleaved()
    {
        using var memory = new PhysicalMemory(16 << 20);
        using var first = new SvmTestMachine(memory, 0);
        using var setup = new SvmTestMachine();
        // Shared tables come from a machine that owns its memory; copy them into the shared RAM.
        var low = new byte[0x110000];
        setup.Memory.ReadBytes(0, low);
        memory.WriteBytes(0, low);
        first.StartHost();
        first.BaselineGuest();
        using var second = new SvmTestMachine(memory, 1);
        Assert.IsTrue(second.Cpu.TryWriteMsr(SvmMsr.VmHsavePa, 0x45000));
        second.BaselineGuest(SvmTestMachine.SecondVmcbPa);

        first.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.inc(ecx); a.cmp(ecx, 1000); a.jne(l); a.cpuid(); a.hlt(); });
        first.Code(32, 0x24000, a => { var l = a.CreateLabel(); a.Label(ref l); a.add(edx, 2); a.cmp(edx, 3000); a.jne(l); a.mov(ecx, 0xC0000081); a.rdmsr(); a.hlt(); });
        first.Vmcb.Intercept(SvmIntercept.Cpuid);
        var secondVmcb = new Vmcb(memory, SvmTestMachine.SecondVmcbPa);
        secondVmcb.Write(VmcbLayout.Rip, 8, 0x24000);
        secondVmcb.Write(VmcbLayout.GuestAsid, 4, 7);
        secondVmcb.Intercept(SvmIntercept.MsrProt);
        secondVmcb.Write(VmcbLayout.MsrpmBasePa, 8, 0x56000);
        memory.Write(0x56000 + 0x800 + 0x81 * 2 / 8, 1, 1UL << (0x81 * 2 % 8));

        Assert.AreEqual(SvmResult.Success, first.Unit.Vmrun(SvmTestMachine.VmcbPa));
        Assert.AreEqual(SvmResult.Success, second.Unit.Vmrun(SvmTestMachine.SecondVmcbPa));
        Assert.IsTrue(first.Unit.InGuest && second.Unit.InGuest, "both processors are in guest mode at once");
        while (first.Exits == 0 || second.Exits == 0)
        {
            if (first.Exits == 0) first.Cpu.Run(first.Cpu.Cycles + 100);
            if (second.Exits == 0) second.Cpu.Run(second.Cpu.Cycles + 100);
        }
        Assert.AreEqual(SvmExitCode.Cpuid, first.Vmcb.ExitCode);
        Assert.AreEqual(1000UL, first.Cpu.Rcx);
        Assert.AreEqual(SvmExitCode.Msr, secondVmcb.ExitCode);
        Assert.AreEqual(3000UL, second.Cpu.Rdx);
        Assert.AreEqual(SvmTestMachine.HsavePa, first.Unit.HostSaveArea);
        Assert.AreEqual(0x45000UL, second.Unit.HostSaveArea);
        Assert.AreEqual(SvmTestMachine.HostCode, first.Cpu.Rip);
        Assert.AreEqual(SvmTestMachine.HostCode, second.Cpu.Rip);
    }
}
