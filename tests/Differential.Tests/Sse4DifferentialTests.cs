using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>sim's SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ, legacy and VEX (128- and 256-bit) forms, against QEMU's TCG and Bochs on generated cases.</summary>
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

    [TestMethod]
    public void Sse4VexQemu() => Check(13, 1200, vex: true);

    [TestMethod]
    public void Sse4VexQemu64() => Check(14, 1200, long64: true, vex: true);

    [TestMethod]
    [TestCategory("Long")]
    public void Sse4VexQemuSweep()
    {
        Check(130, 30000, vex: true);
        Check(140, 30000, long64: true, vex: true);
    }

    [TestMethod]
    [TestCategory("Bochs")]
    public void Sse4VexBochs()
    {
        Check(13, 400, bochs: true, vex: true);
        Check(14, 200, bochs: true, long64: true, vex: true);
    }

    private void Check(int seed, int count, bool bochs = false, bool long64 = false, bool vex = false)
    {
        var r = SimdDifferentialRun.Run(seed, count, bochs, long64, avx: vex, sse4: true);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
