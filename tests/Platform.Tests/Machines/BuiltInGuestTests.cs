using Sim.Images;
using Sim.Images.Guests;

namespace Sim.Platform.Tests.Machines;

/// <summary>The Images project's built-in guests, which also run on QEMU and Bochs, on this machine.</summary>
[TestClass]
public sealed class BuiltInGuestTests
{
    private static IEnumerable<object[]> Guests()
    {
        yield return [new DemoGuest(), false];
        yield return [new DemoGuest(), true];
    }

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void BuiltInGuestPrintsItsExpectedOutputAndExits(BuiltInGuest guest, bool fromFloppy)
    {
        var console = new CapturedOutput();
        var debugConsole = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { Console = console, DebugConsole = debugConsole, MaxInstructions = 50_000_000 });
        BootImage image = fromFloppy ? guest.ToFloppyBootImage() : guest.ToBootImage();
        machine.Load(image);
        var result = machine.Run();
        // The guests write "Shutdown" to Bochs' port before trying QEMU's isa-debug-exit.
        Assert.AreEqual(RunOutcome.BochsShutdown, result.Outcome, result.Message);
        Assert.AreEqual(0, result.ExitCode);
        Assert.AreEqual(guest.ExpectedOutput(), console.ToString(), "COM1");
        Assert.AreEqual(guest.ExpectedOutput(), debugConsole.ToString(), "port 0xE9");
    }
}
