using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Platform;
using Sim.Platform.Tracing;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>The NOVA model's trace events (guest entry and exit, portal calls) and the determinism of its runs.</summary>
[TestClass]
public sealed class NovaTraceTests
{
    private sealed record Run(RunOutcome Outcome, (int Portal, ulong Rip)[] Exits, ulong[] Cycles, ulong Hash, ulong Events, IReadOnlyList<TraceEvent> Recorded, int PortalName);

    /// <summary>The CPUID loop for <paramref name="count"/> CPUID exits with a trace hash (and a recording) attached.</summary>
    private static Run CpuidRun(CpuVendor vendor, int count)
    {
        using var vm = new NovaVm(vendor);
        var hash = new TraceHash();
        var recording = new RecordingTraceListener();
        vm.Machine.Trace.Attach(hash);
        vm.Machine.Trace.Attach(recording);
        var seen = 0;
        vm.Build(NovaGuest.CpuidLoop(),
        [
            NovaGuest.RealModeStartup(vm, vendor),
            (NovaGuest.CpuidPortal(vendor), Mtd.RipLen, _ =>
            {
                NovaGuest.SkipCpuid(vm);
                if (++seen == count) vm.Finish();
                return PortalReply.Resume;
            }),
        ]);
        var result = vm.Machine.Run();
        return new Run(result.Outcome, vm.Exits.ToArray(), vm.Machine.Processors.Select(p => p.Cycles).ToArray(), hash.Value, hash.Count, recording.Events, vm.Kernel.PortalCallName);
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void TheSameRunTwiceGivesTheSameExitsCyclesAndTraceHash(CpuVendor vendor)
    {
        var first = CpuidRun(vendor, 50);
        var second = CpuidRun(vendor, 50);
        Assert.AreEqual(RunOutcome.Finished, first.Outcome);
        CollectionAssert.AreEqual(first.Exits, second.Exits);
        CollectionAssert.AreEqual(first.Cycles, second.Cycles);
        Assert.AreEqual(first.Events, second.Events);
        Assert.AreNotEqual(TraceHash.OffsetBasis, first.Hash, "events were traced");
        Assert.AreEqual(first.Hash, second.Hash);
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel, 0x0AUL, 0x0AUL)]
    [DataRow(CpuVendor.Amd, 0x72UL, 0x72UL)]
    public void ARunTracesEachPortalCallAndEachGuestEntryAndExit(CpuVendor vendor, ulong exitCode, ulong portal)
    {
        var run = CpuidRun(vendor, 3);
        Assert.AreEqual(RunOutcome.Finished, run.Outcome);
        var nova = run.Recorded.Where(e => e.Kind is TraceEventKind.GuestEntry or TraceEventKind.GuestExit or TraceEventKind.KernelEnter or TraceEventKind.KernelLeave).ToList();
        var shape = nova.Select(e => e.Kind switch
        {
            TraceEventKind.GuestEntry => "entry",
            TraceEventKind.GuestExit => $"exit {e.Arg1:x}->{e.Arg2:x}",
            TraceEventKind.KernelEnter => $"call {e.Arg0:x}",
            _ => $"reply {e.Arg0}",
        }).ToArray();
        var exit = $"exit {exitCode:x}->{portal:x}";
        var expected = new[] { "call fe", "reply 0" }
            .Concat(Enumerable.Repeat(new[] { "entry", exit, $"call {portal:x}", "reply 0" }, 3).SelectMany(x => x))
            .ToArray();
        CollectionAssert.AreEqual(expected, shape, string.Join(" | ", shape));
        Assert.IsTrue(nova.Where(e => e.Kind is TraceEventKind.KernelEnter or TraceEventKind.KernelLeave).All(e => e.NameId == run.PortalName));
        var vcpu = nova.First(e => e.Kind == TraceEventKind.GuestEntry).Arg0;
        Assert.IsTrue(nova.Where(e => e.Kind is TraceEventKind.GuestEntry or TraceEventKind.GuestExit).All(e => e.Arg0 == vcpu && e.Cpu == 0));
        for (var i = 1; i < run.Recorded.Count; i++)
            Assert.IsTrue(run.Recorded[i].Cycle >= run.Recorded[i - 1].Cycle, $"event {i} goes back in time");
    }

    [TestMethod]
    public void TheTraceNamesThePortalCall()
    {
        using var machine = new Machine(new MachineConfig { MemoryBytes = 64UL << 20 });
        var kernel = new NovaKernel(machine);
        Assert.AreEqual("nova.portal", machine.Trace.NameOf(kernel.PortalCallName));
    }
}
