using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>A case under construction: values the generator has pinned and the registers it must not clobber.</summary>
internal sealed class CaseDraft
{
    public required string Kind { get; set; }
    public required MemoryPlan Plan { get; set; }
    public List<CaseStep> Steps { get; } = [];
    public Dictionary<int, ulong> Forced { get; } = [];

    /// <summary>Registers later steps rely on (addressing, counts): no step but the last may write them.</summary>
    public HashSet<int> Reserved { get; } = [];

    public List<(uint Offset, uint Value)> Overrides { get; } = [];

    /// <summary>Steps may write RSP only in the templates that manage the stack.</summary>
    public bool AllowStackPointerWrite { get; set; }

    /// <summary>Some step addresses memory through <see cref="Plan"/>, so its registers get the plan's values.</summary>
    public bool PlanUsed { get; set; }

    /// <summary>Fixes a register's initial value; false if another part of the case fixed it differently.</summary>
    public bool Force(int register, ulong value)
    {
        if (Forced.TryGetValue(register, out var existing)) return existing == value;
        Forced[register] = value;
        return true;
    }

    public void Add(Instruction ins, int? branchTarget = null, byte[]? raw = null) =>
        Steps.Add(new CaseStep(ins) { BranchTarget = branchTarget, Raw = raw });
}
