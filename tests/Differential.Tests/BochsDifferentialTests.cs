using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// sim's interpreter against Bochs: the cases QEMU 7.2 cannot judge (segment limits and rights,
/// SS-relative non-canonical addresses, read-modify-write page faults, CMPXCHG8B/16B flags), and a
/// sample of the ordinary cases as a cross-check of QEMU.
/// </summary>
[TestClass]
public sealed class BochsDifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Protected32BochsOnly() => Check(GuestMode.Protected32, 11, 400, bochsOnly: true);

    [TestMethod]
    public void Long64BochsOnly() => Check(GuestMode.Long64, 12, 400, bochsOnly: true);

    [TestMethod]
    public void Protected32CrossCheck() => Check(GuestMode.Protected32, 21, 500, bochsOnly: false);

    [TestMethod]
    public void Long64CrossCheck() => Check(GuestMode.Long64, 22, 500, bochsOnly: false);

    [TestMethod]
    public void Protected16CrossCheck() => Check(GuestMode.Protected16, 23, 500, bochsOnly: false);

    [TestMethod]
    public void Real16CrossCheck() => Check(GuestMode.Real16, 24, 500, bochsOnly: false);

    private void Check(GuestMode mode, int seed, int cases, bool bochsOnly)
    {
        var r = BochsRun.Run(mode, seed, cases, bochsOnly);
        var report = BochsRun.Report(mode, r, limit: 100);
        TestContext.WriteLine(report);
        if (r.Unknown.Count > 0 || r.Failures.Count > 0) Assert.Fail(report);
    }
}
