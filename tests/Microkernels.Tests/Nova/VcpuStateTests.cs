using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// Genode's ec_ctrl extensions (reference §2.2, §3.3): EC_GET_VCPU_STATE copies a stopped vCPU's state into the
/// caller's UTCB and sets the recall hazard; EC_SET_VCPU_STATE loads the UTCB's state into it and clears the hazard
/// unless asked to keep it, so that the vCPU either resumes with the new state or first exits through 0xff.
/// </summary>
[TestClass]
public sealed class VcpuStateTests
{
    private const ulong HostEc = 0x200, HostSc = 0x201;

    [TestMethod]
    [DataRow(CpuVendor.Intel, false)]
    [DataRow(CpuVendor.Intel, true)]
    [DataRow(CpuVendor.Amd, false)]
    [DataRow(CpuVendor.Amd, true)]
    public void AHostThreadReadsAndRewritesAStoppedVcpusStateOnItsCpu(CpuVendor vendor, bool recall)
    {
        using var vm = new NovaVm(vendor);
        var cpuid = NovaGuest.CpuidPortal(vendor);
        var k = vm.Kernel;
        var cpuidExits = 0;
        ulong readRip = 0, readRax = 0, rbxAtSecondCpuid = 0;
        var hazardAfterGet = false;
        var hazardAfterSet = true;
        vm.Build(NovaGuest.CpuidLoop(),
        [
            NovaGuest.RealModeStartup(vm, vendor),
            (cpuid, Mtd.RipLen | Mtd.GprAcdb, _ =>
            {
                if (++cpuidExits == 2)
                {
                    rbxAtSecondCpuid = vm.U(UtcbLayout.Rbx);
                    vm.Finish();
                    return PortalReply.Resume;
                }
                vm.SetU(UtcbLayout.Rip, vm.U(UtcbLayout.Rip) + 2);
                vm.SetU(UtcbLayout.Rax, 0x1234);
                vm.SetU(UtcbLayout.Mtd, (ulong)(Mtd.RipLen | Mtd.GprAcdb));
                return PortalReply.BlockOn(NovaVm.VcpuSm);
            }),
            (NovaKernel.PortalRecall, Mtd.RipLen | Mtd.GprAcdb, _ =>
            {
                vm.SetU(UtcbLayout.Mtd, 0);
                return PortalReply.Resume;
            }),
        ]);
        NovaVm.Check(k.CreateEc(HostEc, NovaKernel.RootPdSelector, 0, utcb: 1, eventBase: 0, global: true, name: "host", entry: () =>
        {
            var utcb = k.RootPd.Objects.Lookup<Ec>(HostEc)!.Utcb;
            var memory = vm.Machine.Memory;
            NovaVm.Check(k.EcGetVcpuState(NovaVm.Vcpu, Mtd.RipLen | Mtd.GprAcdb));
            hazardAfterGet = vm.VcpuEc.RecallHazard;
            readRip = memory.Read(utcb + UtcbLayout.Rip, 8);
            readRax = memory.Read(utcb + UtcbLayout.Rax, 8);
            memory.Write(utcb + UtcbLayout.Rbx, 8, 0xB0B);
            memory.Write(utcb + UtcbLayout.Mtd, 8, (ulong)Mtd.GprAcdb);
            NovaVm.Check(k.EcSetVcpuState(NovaVm.Vcpu, recall));
            hazardAfterSet = vm.VcpuEc.RecallHazard;
            NovaVm.Check(k.SmUp(NovaVm.VcpuSm));
            return Task.CompletedTask;
        }));
        NovaVm.Check(k.CreateSc(HostSc, NovaKernel.RootPdSelector, HostEc, 5));
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", k.Log)}");
        Assert.AreEqual(NovaVm.GuestCode + 5, readRip, "get: the RIP the CPUID reply left");
        Assert.AreEqual(0x1234UL, readRax, "get: the RAX the CPUID reply left");
        Assert.IsTrue(hazardAfterGet, "get sets the recall hazard");
        Assert.AreEqual(recall, hazardAfterSet, "set clears the hazard unless asked to keep it");
        Assert.AreEqual(NovaExit.Recall, vm.VcpuEc.Registers.DstPortal, "set makes the recall portal the vCPU's current exit");
        var expected = recall
            ? new[] { NovaKernel.PortalStartup, cpuid, NovaKernel.PortalRecall, cpuid }
            : new[] { NovaKernel.PortalStartup, cpuid, cpuid };
        CollectionAssert.AreEqual(expected, vm.Exits.Select(e => e.Portal).ToArray());
        Assert.AreEqual(0xB0BUL, rbxAtSecondCpuid, "the guest ran on with the RBX set through the UTCB");
    }
}
