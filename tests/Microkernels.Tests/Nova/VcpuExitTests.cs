using Iced.Intel;
using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Platform;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Nova;

[TestClass]
public sealed class VcpuExitTests
{
    private static byte[] RealMode(Action<Assembler> build) => IcedAssembly.Assemble(16, NovaVm.GuestCode, build);

    private static byte[] CpuidLoop() => RealMode(a =>
    {
        var top = a.CreateLabel();
        a.Label(ref top);
        a.xor(eax, eax);
        a.cpuid();
        a.jmp(top);
    });

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void TheStartupExitComesFirstThenEachCpuidExitReachesItsPortalAndResumesPastTheInstruction(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        var svm = vendor == CpuVendor.Amd;
        var cpuid = svm ? 0x72 : 0x0A;
        var count = 0;
        vm.Build(CpuidLoop(),
        [
            (NovaKernel.PortalStartup, Mtd.None, _ =>
            {
                // HLT exiting (VMX primary bit 7) / CPUID intercept (SVM ctrl0 bit 18), unrestricted guest (VMX secondary bit 7).
                vm.LoadRealModeState(NovaVm.GuestCode, svm ? 1u << 18 : 1u << 7, svm ? 1u : 1u << 7, svm);
                return PortalReply.Resume;
            }),
            (cpuid, Mtd.RipLen | Mtd.GprAcdb, _ =>
            {
                var rip = vm.U(UtcbLayout.Rip);
                // NOVA reports the VMX instruction length; on SVM the VMM knows what it intercepted.
                var len = svm ? 2 : vm.U(UtcbLayout.InstLen);
                Assert.AreEqual(2UL, len, "CPUID is 2 bytes");
                Assert.AreEqual(0UL, vm.U(UtcbLayout.Rax), "the guest asked for leaf 0");
                vm.SetU(UtcbLayout.Rip, rip + len);
                vm.SetU(UtcbLayout.Rax, 0x1234);
                vm.SetU(UtcbLayout.Mtd, (ulong)(Mtd.RipLen | Mtd.GprAcdb));
                if (++count == 100) vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", vm.Kernel.Log)}");
        Assert.AreEqual(NovaKernel.PortalStartup, vm.Exits[0].Portal);
        Assert.AreEqual(101, vm.Exits.Count);
        Assert.IsTrue(vm.Exits.Skip(1).All(e => e.Portal == cpuid && e.Rip == NovaVm.GuestCode + 3), "the exit reports the CPUID after the 3-byte XOR EAX,EAX: " + string.Join(",", vm.Exits.Take(5)));
    }
}
