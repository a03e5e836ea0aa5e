using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// sim's x87 unit against QEMU's TCG (32- and 64-bit) and Bochs on generated sequences (<see cref="SimdCaseGenerator.GenerateX87"/>):
/// the x87 stack, FCW, FSW, the abridged FTW, EFLAGS (FCOMI, FCMOVcc), EAX (FNSTSW AX), the memory block and the vector of a #MF
/// compared bit for bit. QEMU's divergences that Bochs decides for sim are counted as QEMU's (its transcendentals, computed in double).
/// </summary>
[TestClass]
public sealed class X87DifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void X87Qemu() => Check(21, 900);

    [TestMethod]
    public void X87Qemu64() => Check(22, 600, long64: true);

    [TestMethod]
    [TestCategory("Bochs")]
    public void X87Bochs() => Check(23, 600, bochs: true);

    [TestMethod]
    [TestCategory("Long")]
    public void X87QemuSweep()
    {
        Check(210, 6000);
        Check(220, 6000, long64: true);
        Check(230, 1800, bochs: true);
    }

    private void Check(int seed, int count, bool bochs = false, bool long64 = false)
    {
        var r = SimdDifferentialRun.Run(seed, count, bochs, long64, x87: true);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
