using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>sim's interpreter against QEMU's TCG on generated cases, one test per mode.</summary>
[TestClass]
public sealed class DifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Protected32() => Check(GuestMode.Protected32, 1, 2000);

    [TestMethod]
    public void Long64() => Check(GuestMode.Long64, 2, 2000);

    [TestMethod]
    public void Protected16() => Check(GuestMode.Protected16, 3, 700);

    [TestMethod]
    public void Real16() => Check(GuestMode.Real16, 4, 700);

    [TestMethod]
    public void Compat32() => Check(GuestMode.Compat32, 5, 1000);

    [TestMethod]
    [TestCategory("Long")]
    public void LongSweep()
    {
        var failed = new List<string>();
        foreach (var (mode, count) in new[] { (GuestMode.Protected32, 30000), (GuestMode.Long64, 30000), (GuestMode.Protected16, 20000), (GuestMode.Real16, 20000), (GuestMode.Compat32, 20000) })
        {
            var r = DifferentialRun.Run(mode, 100 + (int)mode, count);
            var report = DifferentialRun.Report(mode, r, limit: 10);
            TestContext.WriteLine(report);
            if (r.Unknown.Count > 0 || r.Failures.Count > 0) failed.Add(report);
        }
        if (failed.Count > 0) Assert.Fail(string.Join("\n", failed));
    }

    private void Check(GuestMode mode, int seed, int cases)
    {
        var r = DifferentialRun.Run(mode, seed, cases);
        var report = DifferentialRun.Report(mode, r);
        TestContext.WriteLine(report);
        if (r.Unknown.Count > 0 || r.Failures.Count > 0) Assert.Fail(report);
    }
}
