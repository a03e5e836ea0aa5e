using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Platform;
using Sim.Platform.Tracing;
using Sim.Vmm.Genode;
using Sim.Vmm.Toy;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>Genode's VMM unit test (the toy VMM) on the NOVA model, against the expected exit sequences of reference §6.6.</summary>
[TestClass]
public sealed partial class ToyVmmOnNovaTests
{
    internal sealed record ToyRun(RunResult Result, List<string> Log, ToyVmm Vmm, NovaKernel Kernel, ulong TraceHash, ulong TraceEvents);

    internal static ToyRun Run(CpuVendor vendor, ToyVariant variant, ulong? maxInstructions = null)
    {
        using var machine = new Machine(new MachineConfig { Cpus = 2, Vendor = vendor, MemoryBytes = 64UL << 20, MaxInstructions = maxInstructions });
        var services = new ServiceCollection().AddNova(machine).AddToyVmm(variant).BuildServiceProvider();
        var core = services.GetRequiredService<NovaCore>();
        var vmm = services.GetRequiredService<ToyVmm>();
        var log = new List<string>();
        vmm.StatusChanged += v =>
        {
            if (v.Status is ToyVmmStatus.Finished or ToyVmmStatus.Failed)
                machine.Control.RequestExit(RunOutcome.Finished, v.Status == ToyVmmStatus.Finished ? 0 : 1, v.Status.ToString());
        };
        var hash = new TraceHash();
        machine.Trace.Attach(hash);
        core.Launch(services.GetRequiredService<IComponent>(), "vmm", log.Add);
        var result = machine.Run();
        return new ToyRun(result, log, vmm, core.Kernel, hash.Value, hash.Count);
    }

    [GeneratedRegex(@"vcpu (\d) : (\d+)\. vm exit - reason (0x[0-9a-f]+) handled by '([^']+)'")]
    private static partial Regex ExitLine();

    /// <summary>The per-vCPU exit reasons as the run script reduces them: Intel's HLT 0x0c shown as 0x78, memory-fault lines removed.</summary>
    internal static Dictionary<int, List<string>> Sequences(IEnumerable<string> log, CpuVendor vendor)
    {
        var faults = vendor == CpuVendor.Intel ? new[] { "0x30" } : new[] { "0xfc", "0x4e" };
        var result = new Dictionary<int, List<string>>();
        foreach (var line in log)
        {
            var m = ExitLine().Match(line);
            if (!m.Success) continue;
            var reason = m.Groups[3].Value;
            if (faults.Contains(reason)) continue;
            if (reason == "0xc") reason = "0x78";
            var id = int.Parse(m.Groups[1].Value);
            if (!result.TryGetValue(id, out var list)) result[id] = list = new();
            list.Add(reason);
        }
        return result;
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void The2019VariantGivesTheExpectedExitSequences(CpuVendor vendor)
    {
        var run = Run(vendor, ToyVariant.Genode1905);
        var text = string.Join("\n", run.Log) + "\nkernel: " + string.Join("; ", run.Kernel.Log) + "\nfaults: " + string.Join("; ", run.Kernel.Faults.Select(f => f.Thread.Name + ": " + f.Fault));
        Assert.AreEqual(RunOutcome.Finished, run.Result.Outcome, run.Result.Message + "\n" + text);
        Assert.AreEqual(0, run.Result.ExitCode, text);
        Assert.AreEqual("vmm test finished", run.Log[^1], text);
        var s = Sequences(run.Log, vendor);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78" }, s[0], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78", "0xff", "0x78", "0xff", "0xff", "0x78", "0xff" }, s[1], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78", "0xff", "0x78", "0xff", "0x78", "0xff" }, s[2], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78" }, s[3], text);
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void TheCurrentVariantGivesTheExpectedExitSequences(CpuVendor vendor)
    {
        var run = Run(vendor, ToyVariant.Current);
        var text = string.Join("\n", run.Log) + "\nkernel: " + string.Join("; ", run.Kernel.Log) + "\nfaults: " + string.Join("; ", run.Kernel.Faults.Select(f => f.Thread.Name + ": " + f.Fault));
        Assert.AreEqual(RunOutcome.Finished, run.Result.Outcome, run.Result.Message + "\n" + text);
        Assert.AreEqual(0, run.Result.ExitCode, text);
        var s = Sequences(run.Log, vendor);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78" }, s[0], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78", "0xff", "0x78", "0xff", "0xff", "0x78", "0xff" }, s[1], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78", "0xff", "0xff", "0x78", "0xff", "0xff", "0x78", "0xff" }, s[2], text);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78" }, s[3], text);
    }

    [GeneratedRegex(@"vcpu (\d) : .*rdtscp cx guest=(0x[0-9a-f]+) host=(0x[0-9a-f]+) dx (0x[0-9a-f]+)")]
    private static partial Regex RdtscpLine();

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void TheCurrentVariantLogsTscAuxAndTheTscOffsetAsTheRunScriptExpects(CpuVendor vendor)
    {
        var run = Run(vendor, ToyVariant.Current);
        var lines = run.Log.Select(l => RdtscpLine().Match(l)).Where(m => m.Success).ToDictionary(m => int.Parse(m.Groups[1].Value));
        Assert.AreEqual(4, lines.Count, string.Join("\n", run.Log));
        for (var id = 0; id < 4; id++)
        {
            Assert.AreEqual($"0xaffe000{id}", lines[id].Groups[2].Value, "TSC_AUX = (0xaffe << 16) | vCPU id, loaded by the VMM");
            Assert.AreEqual(id < 2 ? "0x0" : "0x1", lines[id].Groups[3].Value, "the host's TSC_AUX is its CPU number: vCPU 0/1 on CPU 0, 2/3 on CPU 1");
            Assert.AreEqual("0xff00", lines[id].Groups[4].Value, "EDX of RDTSCP carries the TSC offset 0xff00 << 48");
        }
    }

    [TestMethod]
    public void TheSameRunTwiceGivesTheSameLogCyclesAndTrace()
    {
        var a = Run(CpuVendor.Intel, ToyVariant.Current);
        var b = Run(CpuVendor.Intel, ToyVariant.Current);
        CollectionAssert.AreEqual(a.Log, b.Log);
        Assert.AreEqual(a.Result.Cycles, b.Result.Cycles);
        Assert.AreEqual(a.Result.Instructions, b.Result.Instructions);
        Assert.IsTrue(a.TraceEvents > 100, $"the NOVA model traced {a.TraceEvents} events");
        Assert.AreEqual(a.TraceHash, b.TraceHash);
    }
}
