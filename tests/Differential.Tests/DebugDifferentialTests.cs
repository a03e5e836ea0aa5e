using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Sim.Differential.Tests;

/// <summary>
/// sim's debug registers, single step, their #DB and alignment checks at CPL 3 against Bochs,
/// which models DR0–DR7, CR4.DE and #AC. Not against QEMU: 7.2's TCG lets DR6 bit 12 and DR7 bits
/// 12 and 14 be written, reports other trap EIPs and #DB counts for data breakpoints and the MOV SS
/// hold, and aborts (an iothread-lock assertion) on the general-detect #DB of a MOV to DR7.
/// </summary>
[TestClass]
public sealed class DebugDifferentialTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void Protected32Debug()
    {
        var r = BochsRun.Run(GuestMode.Protected32, 31, 2000, (g, i) => g.GenerateDebug(i), CaseGenerator.DebugOptions, withQemu: false);
        var report = BochsRun.Report(GuestMode.Protected32, r, limit: 1000);
        TestContext.WriteLine(report);
        if (r.Unknown.Count > 0 || r.Failures.Count > 0) Assert.Fail(report);
        // EDX holds the number of #DBs the case took (the handler's count, from 0).
        var taken = r.Records.Count(x => (x.Bochs.Registers[2] & 0xFF) > 0);
        Assert.IsTrue(taken >= 700, $"only {taken} cases took a #DB");
        // The #DB log lives in the scratch area: its checksum must be compared in most cases.
        var logged = r.Records.Count(x => !x.Case.Masks[^1].ScratchUndefined);
        Assert.IsTrue(logged >= 1500, $"only {logged} cases compare the #DB log");
    }
}
