namespace Sim.Cpu.X87;

/// <summary>A comparison's relation and exceptions, and the condition codes FCOM/FUCOM set from it (C1 cleared).</summary>
public readonly record struct ComparisonResult(ComparisonRelation Relation, FpuExceptions Exceptions)
{
    public ConditionCodes ConditionCodes => Relation switch
    {
        ComparisonRelation.Greater => new(false, false, false, false),
        ComparisonRelation.Less => new(true, false, false, false),
        ComparisonRelation.Equal => new(false, false, false, true),
        _ => new(true, false, true, true),
    };
}
