using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Platform;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>A thread woken on a processor whose vCPU is in its guest runs only once the guest has exited.</summary>
[TestClass]
public sealed class PreemptionTests
{
    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AHigherPriorityThreadWokenFromAnotherCpuRunsAfterTheGuestExitsForTheIpi(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor, cpus: 2);
        var k = vm.Kernel;
        var root = NovaKernel.RootPdSelector;
        const ulong Sm = 0x300, Waker = 0x301, WakerSc = 0x302, Waiter = 0x303, WaiterSc = 0x304, Timer = 0x305;
        var inGuestWhenRun = true;
        var vcpuExitsWhenRun = 0UL;
        var ranOn = -1;
        vm.Build(NovaGuest.RealMode(NovaGuest.Park), [NovaGuest.RealModeStartup(vm, vendor)], cpu: 1);
        NovaVm.Check(k.CreateSm(Sm, root));
        NovaVm.Check(k.CreateSm(Timer, root));
        NovaVm.Check(k.CreateEc(Waiter, root, 1, utcb: 1, eventBase: 0, global: true, name: "waiter", entry: async () =>
        {
            await k.SmDown(Sm);
            ranOn = k.Running!.Index;
            inGuestWhenRun = k.Processors[1].InGuest;
            vcpuExitsWhenRun = vm.VcpuEc.ExitCount;
            vm.Finish();
        }));
        NovaVm.Check(k.CreateSc(WaiterSc, root, Waiter, 20));
        NovaVm.Check(k.CreateEc(Waker, root, 0, utcb: 1, eventBase: 0, global: true, name: "waker", entry: async () =>
        {
            await k.SmDown(Timer, timeoutTsc: k.Running!.Cpu.TimeStampCounter + 300_000);
            k.SmUp(Sm);
        }));
        NovaVm.Check(k.CreateSc(WakerSc, root, Waker, 5));
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", k.Log)}");
        Assert.AreEqual(1, ranOn);
        Assert.IsFalse(inGuestWhenRun, "the host thread never runs while the processor is in VMX non-root operation or inside VMRUN");
        Assert.AreEqual(1UL, vcpuExitsWhenRun, "the wake-up IPI made the spinning guest exit once, and the kernel kept that exit");
    }
}
