using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>sim's SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ against QEMU's TCG (-cpu max) and Bochs on generated cases.</summary>
[TestClass]
public sealed class Sse4DifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Sse4Qemu() => Check(11, 1500);

    [TestMethod]
    public void Sse4Qemu64() => Check(12, 1200, long64: true);

    [TestMethod]
    [TestCategory("Long")]
    public void Sse4QemuSweep()
    {
        Check(110, 30000);
        Check(120, 30000, long64: true);
    }

    [TestMethod]
    [TestCategory("Bochs")]
    public void Sse4Bochs()
    {
        Check(11, 600, bochs: true);
        Check(12, 300, bochs: true, long64: true);
    }

    private void Check(int seed, int count, bool bochs = false, bool long64 = false)
    {
        var r = SimdDifferentialRun.Run(seed, count, bochs, long64, sse4: true);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
