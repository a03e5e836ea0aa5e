namespace Sim.Differential.Tests;

/// <summary>A generated case: initial state, instructions and what the SDM defines after each of them.</summary>
public sealed class TestCase
{
    public required int Index { get; init; }
    public required GuestMode Mode { get; init; }
    public required string Kind { get; init; }
    public required List<CaseStep> Steps { get; init; }

    /// <summary>Initial general registers (RSP included), in encoding order.</summary>
    public required ulong[] Registers { get; init; }

    /// <summary>Initial EFLAGS, loaded with POPF.</summary>
    public required uint Flags { get; init; }

    /// <summary>Dwords written over the scratch area before the case runs: offset within scratch, value.</summary>
    public required List<(uint Offset, uint Value)> MemoryOverrides { get; init; }

    /// <summary>Masks[k] holds after the first k steps ran; Masks[Steps.Count] at the end.</summary>
    public required List<StateMask> Masks { get; init; }

    /// <summary>Address of each step and of the case's end, as the guest's code addresses them (filled by the builder).</summary>
    public ulong[] StepAddresses { get; set; } = [];

    /// <summary>Encoded bytes of the steps (filled by the builder), for disassembly.</summary>
    public byte[] Code { get; set; } = [];
}
