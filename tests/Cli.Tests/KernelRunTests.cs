using System.Text.RegularExpressions;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>
/// `sim run --kernel nova --vmm toy`: Genode's VMM unit test on the NOVA model, its log on stdout, judged
/// as Genode's run script judges it (reference §6: "vmm test finished", no line containing "Error").
/// </summary>
[TestClass]
public sealed partial class KernelRunTests
{
    [GeneratedRegex(@"^vcpu (\d) : \d+\. vm exit - reason (0x[0-9a-f]+) handled by '([^']+)'$")]
    private static partial Regex ExitLine();

    /// <summary>A vCPU's exit reasons as the run script reduces them (§6.6): Intel's HLT 0x0c shown as 0x78, memory faults removed.</summary>
    private static List<string> Sequence(string[] lines, int vcpu, string vendor)
    {
        var faults = vendor == "intel" ? new[] { "0x30" } : new[] { "0xfc", "0x4e" };
        var result = new List<string>();
        foreach (var line in lines)
        {
            var m = ExitLine().Match(line);
            if (!m.Success || m.Groups[1].Value != vcpu.ToString() || faults.Contains(m.Groups[2].Value)) continue;
            result.Add(m.Groups[2].Value == "0xc" ? "0x78" : m.Groups[2].Value);
        }
        return result;
    }

    [TestMethod]
    [DataRow("intel", "2019")]
    [DataRow("intel", "current")]
    [DataRow("amd", "2019")]
    [DataRow("amd", "current")]
    public void TheToyVmmOnNovaPrintsItsLogAndFinishes(string vendor, string variant)
    {
        var (exit, output, error) = Invoke("run", "--kernel", "nova", "--vmm", "toy", "--vendor", vendor, "--variant", variant);
        Assert.AreEqual(0, exit, error + output);
        Assert.AreEqual("", error);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.AreEqual("vmm test finished", lines[^1]);
        Assert.IsFalse(output.Contains("Error", StringComparison.Ordinal), output);
        // vCPU 0 and 1 run on "ep" (CPU 0), vCPU 2 and 3 on "second ep" (CPU 1); each starts with the synthetic startup exit (§6.1, §6.4).
        CollectionAssert.Contains(lines, "vcpu 0 : 1. vm exit - reason 0xfe handled by 'ep'");
        CollectionAssert.Contains(lines, "vcpu 1 : 1. vm exit - reason 0xfe handled by 'ep'");
        CollectionAssert.Contains(lines, "vcpu 2 : 1. vm exit - reason 0xfe handled by 'second ep'");
        CollectionAssert.Contains(lines, "vcpu 3 : 1. vm exit - reason 0xfe handled by 'second ep'");
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78" }, Sequence(lines, 0, vendor), output);
        CollectionAssert.AreEqual(new[] { "0xfe", "0x78", "0xff", "0x78", "0xff", "0xff", "0x78", "0xff" }, Sequence(lines, 1, vendor), output);
        // Only the current test checks RDTSCP against TSC_AUX and the TSC offset (§6.3, §6.6).
        var rdtscp = lines.Contains("vcpu 0 : 2. vm exit -  rdtscp cx guest=0xaffe0000 host=0x0 dx 0xff00");
        Assert.AreEqual(variant == "current", rdtscp, output);
    }

    [TestMethod]
    public void TheVariantDefaultsToCurrentAndTheCpusToTwo()
    {
        var (exit, output, error) = Invoke("run", "--kernel", "nova", "--vmm", "toy");
        Assert.AreEqual(0, exit, error + output);
        // host=0x1: vCPU 2 runs on the second CPU (§6.6).
        StringAssert.Contains(output, "vm exit -  rdtscp cx guest=0xaffe0002 host=0x1 dx 0xff00");
    }

    [TestMethod]
    public void StatsReportTheVmExits()
    {
        var (exit, _, error) = Invoke("run", "--kernel", "nova", "--vmm", "toy", "--stats", "--cpus", "4", "--memory", "128M");
        Assert.AreEqual(0, exit, error);
        StringAssert.Contains(error, "Finished (exit status 0)");
        var exits = Regex.Match(error, @"VM exits\s*│\s*([0-9,]+)");
        Assert.IsTrue(exits.Success, error);
        // At least the exits the VMM handles that hardware causes: the HLT of each vCPU and the first memory fault.
        Assert.IsTrue(int.Parse(exits.Groups[1].Value.Replace(",", "")) >= 5, error);
    }

    [TestMethod]
    public void AnInstructionLimitStopsTheRunWithItsStatus()
    {
        var (exit, output, error) = Invoke("run", "--kernel", "nova", "--vmm", "toy", "--max-instructions", "10000");
        Assert.AreEqual(8, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, "instruction limit of 10000 reached");
        Assert.IsFalse(output.Contains("vmm test finished", StringComparison.Ordinal), output);
    }

    [TestMethod]
    [DataRow("--kernel needs --vmm", "--kernel", "nova")]
    [DataRow("--vmm needs --kernel", "--vmm", "toy")]
    [DataRow("unknown kernel 'l4'; choose one of: nova", "--kernel", "l4", "--vmm", "toy")]
    [DataRow("unknown VMM 'vbox'; choose one of: toy", "--kernel", "nova", "--vmm", "vbox")]
    [DataRow("give no IMAGE", "--kernel", "nova", "--vmm", "toy", "guest.img")]
    [DataRow("--guest does not apply with --kernel", "--kernel", "nova", "--vmm", "toy", "--guest", "demo")]
    [DataRow("--bios does not apply with --kernel", "--kernel", "nova", "--vmm", "toy", "--bios", "rom.bin")]
    [DataRow("--floppy does not apply with --kernel", "--kernel", "nova", "--vmm", "toy", "--floppy")]
    [DataRow("--cmdline does not apply with --kernel", "--kernel", "nova", "--vmm", "toy", "--cmdline", "x")]
    [DataRow("the toy VMM needs at least 2 CPUs", "--kernel", "nova", "--vmm", "toy", "--cpus", "1")]
    [DataRow("'2020' is not a valid value for --variant", "--kernel", "nova", "--vmm", "toy", "--variant", "2020")]
    [DataRow("--variant applies to a --kernel --vmm run only", "--variant", "2019")]
    [DataRow("--memory 20M is too small for the nova kernel", "--kernel", "nova", "--vmm", "toy", "--memory", "20M")]
    public void KernelRunMisuseIsOneLineAndStatusTwo(string containing, params string[] args)
    {
        var (exit, output, error) = Invoke(["run", .. args]);
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, containing);
        Assert.AreEqual("", output);
    }
}
