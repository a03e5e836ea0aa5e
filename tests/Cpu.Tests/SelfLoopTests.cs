using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>A JMP $ spin is retired up to the next event at once; it must count exactly as executing it turn by turn does.</summary>
[TestClass]
public sealed class SelfLoopTests
{
    private static void Spin(Assembler a)
    {
        var self = a.CreateLabel();
        a.Label(ref self);
        a.jmp(self);
    }

    [TestMethod]
    public void ASpinRetiresOneInstructionPerCycleUpToTheLimit()
    {
        using var g = GuestRunner.Real(Spin);
        var start = g.Cpu.Cycles;
        var retired = g.Cpu.InstructionsRetired;
        var rip = g.Cpu.Rip;
        Assert.AreEqual(StopReason.CycleLimit, g.Cpu.Run(start + 3_000_000_007));
        Assert.AreEqual(start + 3_000_000_007, g.Cpu.Cycles);
        Assert.AreEqual(retired + 3_000_000_007, g.Cpu.InstructionsRetired);
        Assert.AreEqual(rip, g.Cpu.Rip, "the JMP $ is where it was");
    }

    [TestMethod]
    public void ASpinStepsAsTheLongRunDoes()
    {
        using var a = GuestRunner.Long(Spin);
        using var b = GuestRunner.Long(Spin);
        a.Cpu.Run(a.Cpu.Cycles + 1000);
        for (var i = 0; i < 1000; i++) b.Cpu.Step();
        Assert.AreEqual(a.Cpu.InstructionsRetired, b.Cpu.InstructionsRetired);
        Assert.AreEqual(a.Cpu.Rip, b.Cpu.Rip);
    }
}
