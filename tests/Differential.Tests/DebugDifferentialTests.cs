using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// sim's debug registers, single step and their #DB against Bochs, which models DR0–DR7 and
/// CR4.DE; QEMU's results are listed beside them (its TCG models breakpoints through its own
/// watchpoints) but do not decide.
/// </summary>
[TestClass]
public sealed class DebugDifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Protected32Debug()
    {
        var r = BochsRun.Run(GuestMode.Protected32, 31, 800, (g, i) => g.GenerateDebug(i), CaseGenerator.DebugOptions, withQemu: true);
        var report = BochsRun.Report(GuestMode.Protected32, r, limit: 1000);
        TestContext.WriteLine(report);
        if (r.Unknown.Count > 0 || r.Failures.Count > 0) Assert.Fail(report);
        // EDX holds the number of #DBs the case took (the handler's count, from 0).
        var taken = r.Records.Count(x => (x.Bochs.Registers[2] & 0xFF) > 0);
        Assert.IsTrue(taken >= 300, $"only {taken} cases took a #DB");
        // The #DB log lives in the scratch area: its checksum must be compared in most cases.
        var logged = r.Records.Count(x => !x.Case.Masks[^1].ScratchUndefined);
        Assert.IsTrue(logged >= 600, $"only {logged} cases compare the #DB log");
    }
}
