using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Microkernels.Nova;
using Sim.Platform;
using Sim.Platform.Tracing;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// Recall (ec_ctrl EC_RECALL: the hazard, and an IPI when the vCPU is in its guest on another CPU), replies that keep a
/// vCPU stopped on a semaphore, and the kill of a vCPU whose exit finds no portal (reference §3.3).
/// </summary>
[TestClass]
public sealed class RecallTests
{
    private const ulong HostEc = 0x200, HostSc = 0x201, HostSm = 0x202;

    /// <summary>A host thread (global EC with an SC) in the roottask on <paramref name="cpu"/>, below the vCPU's priority.</summary>
    private static void StartHostThread(NovaVm vm, int cpu, Func<Task> body)
    {
        var k = vm.Kernel;
        NovaVm.Check(k.CreateSm(HostSm, NovaKernel.RootPdSelector));
        NovaVm.Check(k.CreateEc(HostEc, NovaKernel.RootPdSelector, cpu, utcb: 1, eventBase: 0, global: true, entry: body, name: "host"));
        NovaVm.Check(k.CreateSc(HostSc, NovaKernel.RootPdSelector, HostEc, 5));
    }

    /// <summary>Lets <paramref name="cycles"/> of simulated time pass for the calling host thread (sm_ctrl down with a TSC timeout on a semaphore nobody ups).</summary>
    private static ThreadWait Sleep(NovaKernel k, ulong cycles) => k.SmDown(HostSm, timeoutTsc: k.Running!.Cpu.TimeStampCounter + cycles);

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void ARecallFromCpu0MakesTheGuestSpinningOnCpu1ExitThroughItsRecallPortalOnCpu1(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor, cpus: 2);
        var ipis = new RecordingTraceListener();
        vm.Machine.Trace.Attach(ipis);
        int? recallCpu = null;
        var inGuestAtRecall = false;
        var status = NovaStatus.InvalidHypercall;
        vm.Build(NovaGuest.RealMode(NovaGuest.Park),
        [
            NovaGuest.RealModeStartup(vm, vendor),
            (NovaKernel.PortalRecall, Mtd.RipLen, _ =>
            {
                recallCpu = vm.Kernel.Running?.Index;
                vm.Finish();
                return PortalReply.Resume;
            }),
        ], cpu: 1);
        StartHostThread(vm, 0, async () =>
        {
            var k = vm.Kernel;
            await Sleep(k, 200_000);
            inGuestAtRecall = k.Processors[1].InGuest;
            status = k.EcRecall(NovaVm.Vcpu);
        });
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", vm.Kernel.Log)}");
        Assert.AreEqual(NovaStatus.Success, status);
        Assert.IsTrue(inGuestAtRecall, "the vCPU was in its guest on CPU 1 when CPU 0 recalled it");
        Assert.AreEqual(1, recallCpu, "the recall portal's handler runs on the vCPU's CPU");
        CollectionAssert.AreEqual(new[] { NovaKernel.PortalStartup, NovaKernel.PortalRecall }, vm.Exits.Select(e => e.Portal).ToArray());
        Assert.AreEqual(NovaVm.GuestCode, vm.Exits[1].Rip, "the guest was at its JMP $");
        Assert.IsTrue(ipis.Events.Any(e => e.Kind == TraceEventKind.Ipi && e.Arg0 == 0 && e.Arg1 == 1 && e.Arg2 == KernelProcessor.RequestVector), "CPU 0 sent CPU 1 the request IPI");
        Assert.AreEqual(1UL, vm.VcpuEc.ExitCount, "one VM exit: the IPI's external interrupt, which the kernel keeps");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void ARecallOfAVcpuBlockedOnItsSemaphoreShowsOnlyOnceTheSemaphoreIsUpped(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        var cpuid = NovaGuest.CpuidPortal(vendor);
        var exitsBeforeUp = -1;
        var stateBeforeUp = KernelThreadState.Created;
        vm.Build(NovaGuest.CpuidLoop(),
        [
            NovaGuest.RealModeStartup(vm, vendor),
            (cpuid, Mtd.RipLen, _ =>
            {
                NovaGuest.SkipCpuid(vm);
                return PortalReply.BlockOn(NovaVm.VcpuSm);
            }),
            (NovaKernel.PortalRecall, Mtd.RipLen, _ =>
            {
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        StartHostThread(vm, 0, async () =>
        {
            var k = vm.Kernel;
            NovaVm.Check(k.EcRecall(NovaVm.Vcpu));
            await Sleep(k, 100_000);
            exitsBeforeUp = vm.Exits.Count;
            stateBeforeUp = vm.VcpuEc.Thread!.State;
            NovaVm.Check(k.SmUp(NovaVm.VcpuSm));
        });
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", vm.Kernel.Log)}");
        Assert.AreEqual(2, exitsBeforeUp, "startup and CPUID; the recall waits for the vCPU to run");
        Assert.AreEqual(KernelThreadState.Blocked, stateBeforeUp);
        CollectionAssert.AreEqual(new[] { NovaKernel.PortalStartup, cpuid, NovaKernel.PortalRecall }, vm.Exits.Select(e => e.Portal).ToArray());
        Assert.AreEqual(NovaVm.GuestCode + 5, vm.Exits[2].Rip, "the recall reports the state the CPUID reply left: past the CPUID");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AReplyWithTheSemaphoreKeepsTheVcpuStoppedUntilTheSemaphoreIsUpped(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        var cpuid = NovaGuest.CpuidPortal(vendor);
        var exits = 0;
        ulong upCycle = 0, secondExitCycle = 0;
        var stateBeforeUp = KernelThreadState.Created;
        vm.Build(NovaGuest.CpuidLoop(),
        [
            NovaGuest.RealModeStartup(vm, vendor),
            (cpuid, Mtd.RipLen, _ =>
            {
                NovaGuest.SkipCpuid(vm);
                if (++exits == 1) return PortalReply.BlockOn(NovaVm.VcpuSm);
                secondExitCycle = vm.Kernel.Running!.Cpu.Cycles;
                vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        StartHostThread(vm, 0, async () =>
        {
            var k = vm.Kernel;
            await Sleep(k, 100_000);
            stateBeforeUp = vm.VcpuEc.Thread!.State;
            upCycle = k.Running!.Cpu.Cycles;
            NovaVm.Check(k.SmUp(NovaVm.VcpuSm));
        });
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.Finished, result.Outcome, $"{result.Message}; kernel: {string.Join("; ", vm.Kernel.Log)}");
        Assert.AreEqual(KernelThreadState.Blocked, stateBeforeUp, "100000 cycles after the reply the vCPU still waits");
        Assert.AreEqual(2, exits);
        Assert.IsTrue(secondExitCycle > upCycle, $"the second CPUID exit ({secondExitCycle}) comes after the up ({upCycle})");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void AnExitWithoutAPortalKillsTheVcpu(CpuVendor vendor)
    {
        using var vm = new NovaVm(vendor);
        vm.Build(NovaGuest.CpuidLoop(), [NovaGuest.RealModeStartup(vm, vendor)]);
        var result = vm.Machine.Run();
        Assert.AreEqual(RunOutcome.HaltedForever, result.Outcome, result.Message);
        Assert.IsTrue(vm.VcpuEc.Dead);
        CollectionAssert.Contains(vm.Kernel.Log.ToArray(), $"vcpu0: PT not found for exit {NovaGuest.CpuidPortal(vendor):x2}, vCPU killed");
    }
}
