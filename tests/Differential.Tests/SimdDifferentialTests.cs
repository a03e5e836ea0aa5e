using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>sim's MMX, SSE, SSE2 and AVX against QEMU's TCG (and Bochs) on generated cases (<see cref="SimdCaseGenerator"/>).</summary>
[TestClass]
public sealed class SimdDifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Sse2Qemu() => Check(1, 1500);

    [TestMethod]
    public void Sse2Qemu64() => Check(2, 1000, long64: true);

    [TestMethod]
    [TestCategory("Long")]
    public void Sse2QemuSweep()
    {
        Check(100, 30000);
        Check(200, 30000, long64: true);
    }

    /// <summary>The same cases on Bochs, which decides the QEMU deviations of <see cref="SimdOracleDeviations"/>.</summary>
    [TestMethod]
    [TestCategory("Bochs")]
    public void Sse2Bochs()
    {
        Check(1, 500, bochs: true);
        // A floppy payload holds at most 384 KiB: fewer 64-bit cases fit.
        Check(2, 350, bochs: true, long64: true);
    }

    [TestMethod]
    public void AvxQemu() => Check(3, 1500, avx: true);

    [TestMethod]
    public void AvxQemu64() => Check(4, 1500, long64: true, avx: true);

    [TestMethod]
    [TestCategory("Long")]
    public void AvxQemuSweep()
    {
        Check(300, 30000, avx: true);
        Check(400, 30000, long64: true, avx: true);
    }

    /// <summary>The AVX cases on Bochs (its corei7_skylake_x model has AVX and AVX2).</summary>
    [TestMethod]
    [TestCategory("Bochs")]
    public void AvxBochs()
    {
        Check(3, 600, bochs: true, avx: true);
        Check(4, 300, bochs: true, long64: true, avx: true);
    }

    [TestMethod]
    public void Avx2Qemu() => Check(5, 1500, avx2: true);

    [TestMethod]
    public void Avx2Qemu64() => Check(6, 1500, long64: true, avx2: true);

    [TestMethod]
    [TestCategory("Long")]
    public void Avx2QemuSweep()
    {
        Check(500, 30000, avx2: true);
        Check(600, 30000, long64: true, avx2: true);
    }

    /// <summary>The FMA3, F16C and AVX2 cases on Bochs (its corei7_skylake_x model has all three).</summary>
    [TestMethod]
    [TestCategory("Bochs")]
    public void Avx2Bochs()
    {
        Check(5, 600, bochs: true, avx2: true);
        Check(6, 400, bochs: true, long64: true, avx2: true);
    }

    private void Check(int seed, int count, bool bochs = false, bool long64 = false, bool avx = false, bool avx2 = false)
    {
        var r = SimdDifferentialRun.Run(seed, count, bochs, long64, avx, avx2);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
