using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Sim.Cpu;
using Sim.Microkernels.Nova;
using Sim.Microkernels.Nova.Genode;
using Sim.Platform;
using Sim.Vmm.Genode;
using Sim.Vmm.Toy;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>Genode's VMM unit test (the toy VMM) on the NOVA model, against the expected exit sequences of reference §6.6.</summary>
[TestClass]
public sealed partial class ToyVmmOnNovaTests
{
    internal sealed record ToyRun(RunResult Result, List<string> Log, ToyVmm Vmm, NovaKernel Kernel);

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
        core.Launch(services.GetRequiredService<IComponent>(), "vmm", log.Add);
        var result = machine.Run();
        return new ToyRun(result, log, vmm, core.Kernel);
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
}
