using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>How a case's memory operands address the scratch area: registers, scale, displacement and segment.</summary>
public sealed class MemoryPlan
{
    public Register Base { get; init; }
    public Register Index { get; init; }
    public int Scale { get; init; } = 1;
    public long Displacement { get; init; }
    public Register Segment { get; init; }
    public int AddressSize { get; init; }

    /// <summary>Offset within the scratch area the operand starts at (when it lands there).</summary>
    public uint Target { get; init; }

    /// <summary>The operand lands in the scratch area (limit-violation plans point elsewhere).</summary>
    public bool InScratch { get; init; } = true;

    /// <summary>Initial values of <see cref="Base"/> and <see cref="Index"/> that make the address land on <see cref="Target"/>.</summary>
    public ulong BaseValue { get; init; }

    public ulong IndexValue { get; init; }

    public void Apply(ref Instruction ins, int operand)
    {
        ins.SetOpKind(operand, OpKind.Memory);
        ins.MemoryBase = Base;
        ins.MemoryIndex = Index;
        ins.MemoryIndexScale = Scale;
        ins.SegmentPrefix = Segment;
        var disp = AddressSize == 16 ? (ulong)(ushort)Displacement : AddressSize == 32 ? (ulong)(uint)Displacement : (ulong)Displacement;
        ins.MemoryDisplacement64 = disp;
        ins.MemoryDisplSize = Displacement == 0 && Base != Register.None ? 0
            : Displacement is >= sbyte.MinValue and <= sbyte.MaxValue && Base != Register.None ? 1
            : AddressSize == 16 ? 2 : AddressSize == 64 ? 8 : 4;
    }
}
