using System.Globalization;
using Sim.Cpu.Registers;
using Sim.Images.Guests;

namespace Sim.Platform.Tests.Machines;

/// <summary>The multiprocessor built-in guest on 1, 2, 4 and 8 CPUs: the output its definition gives, the same run every time.</summary>
[TestClass]
public sealed class SmpGuestTests
{
    private static (RunResult Result, string Console, string DebugConsole) Run(int cpus)
    {
        var console = new CapturedOutput();
        var debugConsole = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { Cpus = cpus, Console = console, DebugConsole = debugConsole, MaxInstructions = 400_000_000 });
        machine.Load(new SmpGuest().ToBootImage());
        var result = machine.Run();
        var states = string.Join("\n", machine.Processors.Select(p => string.Create(CultureInfo.InvariantCulture,
            $"CPU {p.Index}: {p.Activity} CS:RIP={p.GetSegment(SegmentIndex.CS).Selector:x4}:{p.Rip:x8} cycles {p.Cycles} retired {p.InstructionsRetired}")));
        return (result with { Message = $"{result.Message}\n{states}" }, console.ToString(), debugConsole.ToString());
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void PrintsItsExpectedOutputAndExits(int cpus)
    {
        var (result, console, debugConsole) = Run(cpus);
        Assert.AreEqual(RunOutcome.BochsShutdown, result.Outcome, $"{result.Message}\n{console}");
        Assert.AreEqual(0, result.ExitCode);
        Assert.AreEqual(SmpGuest.ExpectedOutput(cpus), console, "COM1");
        Assert.AreEqual(SmpGuest.ExpectedOutput(cpus), debugConsole, "port 0xE9");
    }

    [TestMethod]
    [DataRow(4)]
    public void TwoRunsAreTheSame(int cpus)
    {
        var first = Run(cpus);
        var second = Run(cpus);
        Assert.AreEqual(first.Console, second.Console);
        Assert.AreEqual(first.Result.Instructions, second.Result.Instructions, "instructions");
        Assert.AreEqual(first.Result.Cycles, second.Result.Cycles, "cycles");
    }
}
