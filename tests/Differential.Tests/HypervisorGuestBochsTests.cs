using Microsoft.VisualStudio.TestTools.UnitTesting;
using Sim.Cpu;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Differential.Tests;

/// <summary>
/// The VT-x and AMD-V hypervisor guests booted from their floppies on Bochs, the oracle for both
/// (corei7_skylake_x has VT-x with EPT and unrestricted guest, phenom_8650_toliman AMD-V with nested
/// paging), and on sim: both must print exactly <see cref="BuiltInGuest.ExpectedOutput"/> on port
/// E9h, except for the lines <see cref="OracleDeviations.GuestOutput"/> shows Bochs to get wrong.
/// </summary>
[TestClass]
public sealed class HypervisorGuestBochsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void VmxGuestPrintsTheSameOnBochsAndSim() =>
        Check(new VmxHypervisorGuest(), CpuVendor.Intel, BochsRunner.IntelModel, new VmxHypervisorGuest().ExpectedOutput(), succeeds: true);

    [TestMethod]
    public void SvmGuestPrintsTheSameOnBochsAndSim() =>
        Check(new SvmHypervisorGuest(), CpuVendor.Amd, BochsRunner.AmdModel, new SvmHypervisorGuest().ExpectedOutput(), succeeds: true);

    [TestMethod]
    public void VmxGuestFindsNoVmxOnAnAmdProcessor() =>
        Check(new VmxHypervisorGuest(), CpuVendor.Amd, BochsRunner.AmdModel, VmxHypervisorGuest.NoVmxOutput, succeeds: false);

    [TestMethod]
    public void SvmGuestFindsNoSvmOnAnIntelProcessor() =>
        Check(new SvmHypervisorGuest(), CpuVendor.Intel, BochsRunner.IntelModel, SvmHypervisorGuest.NoSvmOutput, succeeds: false);

    private void Check(BuiltInGuest guest, CpuVendor vendor, string bochsModel, string expected, bool succeeds)
    {
        var floppy = guest.ToFloppy();
        var bochsRun = Task.Run(() => BochsRunner.RunFloppy(floppy, bochsModel, Timeout));

        var debug = new CapturedOutput();
        RunResult sim;
        using (var machine = new Machine(new MachineConfig { Vendor = vendor, Console = Stream.Null, DebugConsole = debug, MaxInstructions = 100_000_000 }))
        {
            machine.Load(guest.ToFloppyBootImage());
            sim = machine.Run();
        }

        var bochs = bochsRun.Result;
        var bochsText = BochsRunner.DebugPortText(bochs.Stdout);
        var deviations = OracleDeviations.GuestOutput.Where(d => d.Guest == guest.Name && d.Oracle == Oracle.Bochs && succeeds).ToList();
        var bochsExpected = deviations.Aggregate(expected, (text, d) => d.ApplyTo(text));
        foreach (var d in deviations) TestContext.WriteLine($"oracle deviation: {d.Description}");
        TestContext.WriteLine($"sim ({vendor}):\n{debug}\nBochs ({bochsModel}):\n{bochsText}");

        Assert.AreEqual(expected, debug.ToString(), $"sim: {sim}");
        Assert.AreEqual(succeeds ? RunOutcome.BochsShutdown : RunOutcome.DebugExit, sim.Outcome, sim.ToString());
        Assert.AreEqual(bochsExpected, bochsText, bochs.Diagnostics);
        // The guests end through Bochs' shutdown port also after a failure, which Bochs' missing port 0xF4 lets through.
        Assert.IsTrue(bochs.Exited, bochs.Diagnostics);
    }
}
