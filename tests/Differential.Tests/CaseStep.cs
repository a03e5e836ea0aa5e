using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>One instruction of a case.</summary>
public sealed class CaseStep
{
    public CaseStep(Instruction instruction) => Instruction = instruction;

    /// <summary>The instruction as Iced sees it (for emission, tracking of defined state and disassembly).</summary>
    public Instruction Instruction { get; }

    /// <summary>Bytes emitted instead of encoding <see cref="Instruction"/> (invalid opcodes, prefixes Iced will not encode).</summary>
    public byte[]? Raw { get; init; }

    /// <summary>For a branch: the index of the step it goes to (the step count means the end of the case).</summary>
    public int? BranchTarget { get; init; }
}
