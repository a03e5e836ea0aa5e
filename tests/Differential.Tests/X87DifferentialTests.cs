using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// sim's x87 unit against QEMU's TCG (32- and 64-bit) and Bochs on generated sequences (<see cref="SimdCaseGenerator.GenerateX87"/>):
/// the x87 stack, FCW, FSW, the abridged FTW, EFLAGS (FCOMI, FCMOVcc), EAX (FNSTSW AX), the memory block and the vector of a #MF
/// compared bit for bit. QEMU's divergences that Bochs decides for sim are counted as QEMU's (<see cref="SimdOracleDeviations.X87QemuReason"/>),
/// Bochs' own are <see cref="SimdOracleDeviations"/>' x87 entries. FOP and FIP's offset are compared against Bochs only (QEMU 7.2 keeps no
/// x87 pointers and stores zeros); FDP, FCS and FDS not at all (Bochs' model has FDP_EXCPTN_ONLY and deprecates FCS/FDS, sim's does not);
/// nor is the full tag word of FNSTENV (the environment instructions are not generated), only FXSAVE's abridged one.
/// </summary>
[TestClass]
public sealed class X87DifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void X87Qemu() => Check(21, 1000);

    [TestMethod]
    public void X87Qemu64() => Check(22, 600, long64: true);

    [TestMethod]
    [TestCategory("Bochs")]
    public void X87Bochs()
    {
        Check(23, 400, bochs: true);
        Check(24, 200, bochs: true, long64: true);
    }

    [TestMethod]
    [TestCategory("Long")]
    public void X87QemuSweep()
    {
        Check(210, 6000);
        Check(220, 6000, long64: true);
        Check(230, 1800, bochs: true);
        Check(240, 600, bochs: true, long64: true);
    }

    private void Check(int seed, int count, bool bochs = false, bool long64 = false)
    {
        var r = SimdDifferentialRun.Run(seed, count, bochs, long64, x87: true);
        TestContext.WriteLine(r.Report);
        if (r.Unknown > 0 || r.Failures.Count > 0) Assert.Fail(r.Report);
    }
}
