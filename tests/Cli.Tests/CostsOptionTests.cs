using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using static Sim.Cli.Tests.SimInvocation;

namespace Sim.Cli.Tests;

/// <summary>`sim run --costs FILE`: a JSON file replaces any subset of the modeled cycle costs (README, `--costs`).</summary>
[TestClass]
public sealed class CostsOptionTests
{
    private static string CostFile(string json) => TempFile(Encoding.UTF8.GetBytes(json), ".json");

    private static (int Exit, string Error) Run(string? json, params string[] args)
    {
        var path = json == null ? null : CostFile(json);
        try
        {
            var (exit, _, error) = Invoke(path == null ? ["run", .. args] : ["run", "--costs", path, .. args]);
            return (exit, error);
        }
        finally
        {
            if (path != null) File.Delete(path);
        }
    }

    private static ulong SimulatedCycles(string stats) =>
        ulong.Parse(Regex.Match(stats, @"simulated cycles\s*│\s*([\d,]+)").Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [TestMethod]
    [DataRow("{ \"vmExit\": 100 }", "unknown cost figure 'vmExit'")]
    [DataRow("{ \"vmxExit\": -1 }", "non-negative whole number")]
    [DataRow("{ \"vmxExit\": 2.5 }", "non-negative whole number")]
    [DataRow("{ \"vmxExit\": \"250\" }", "non-negative whole number")]
    [DataRow("{ \"vmxExit\": 250, \"vmxExit\": 300 }", "given twice")]
    [DataRow("{ \"vmxExit\": { \"cycle\": 250 } }", "unknown field 'cycle'")]
    [DataRow("{ \"vmxExit\": 250 ", "not valid JSON")]
    [DataRow("[250]", "expected an object")]
    public void ABadCostFileIsOneLineAndStatus2(string json, string containing)
    {
        var (exit, error) = Run(json, "--max-instructions", "10");
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.StartsWith(error, "sim: --costs: ");
        StringAssert.Contains(error, containing);
    }

    [TestMethod]
    public void AMissingCostFileIsOneLineAndStatus2()
    {
        var (exit, _, error) = Invoke("run", "--costs", "/nonexistent/costs.json");
        Assert.AreEqual(2, exit, error);
        AssertOneLine(error);
        StringAssert.Contains(error, "cannot read the cost file");
    }

    [TestMethod]
    public void TheFileReplacesOnlyTheFiguresItNames()
    {
        // The vmx guest's nine VM exits (README, `--stats`) each charge the VM-exit figure once.
        var (exit, baseline) = Run(null, "--guest", "vmx", "--stats");
        Assert.AreEqual(0, exit, baseline);
        (exit, var slower) = Run("{ \"vmxExit\": { \"cycles\": 1250, \"source\": \"a slower core\" } }", "--guest", "vmx", "--stats");
        Assert.AreEqual(0, exit, slower);
        Assert.AreEqual(SimulatedCycles(baseline) + 9 * 1000, SimulatedCycles(slower), "1,000 more cycles for each of nine exits, nothing else changed");
    }
}
