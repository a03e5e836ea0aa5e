using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>sim's XSAVE, XSAVEOPT, XSAVEC and XRSTOR against QEMU's TCG and Bochs on generated cases (<see cref="XsaveCaseGenerator"/>).</summary>
[TestClass]
public sealed class XsaveDifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void XsaveQemu() => Check(1, 600, bochs: false);

    [TestMethod]
    public void XsaveQemu32() => Check(3, 300, bochs: false, long64: false);

    /// <summary>Bochs also runs XSAVEC and the compacted XRSTOR, which QEMU 7.2's TCG lacks.</summary>
    [TestMethod]
    [TestCategory("Bochs")]
    public void XsaveBochs()
    {
        Check(2, 300, bochs: true);
        Check(4, 150, bochs: true, long64: false);
    }

    private void Check(int seed, int count, bool bochs, bool long64 = true)
    {
        var r = XsaveDifferentialRun.Run(seed, count, bochs, long64);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
