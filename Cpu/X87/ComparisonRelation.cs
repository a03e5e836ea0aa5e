namespace Sim.Cpu.X87;

/// <summary>The outcome of an x87 comparison (SDM vol. 2A, FCOM table 3-21).</summary>
public enum ComparisonRelation
{
    Greater,
    Less,
    Equal,
    Unordered,
}
