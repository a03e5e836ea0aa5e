using Sim.Platform;

namespace Sim.Fuzz;

/// <summary>The tally of one kind's cases.</summary>
public sealed class KindSummary(FuzzKind kind)
{
    private readonly SortedDictionary<RunOutcome, int> _outcomes = [];

    public FuzzKind Kind { get; } = kind;

    public int Cases { get; private set; }

    public IReadOnlyDictionary<RunOutcome, int> Outcomes => _outcomes;

    /// <summary>Images the loader rejected with an <see cref="Sim.Images.ImageFormatException"/>.</summary>
    public int Rejections { get; private set; }

    /// <summary>Runs that the harness's cycle bound ended (counted under <see cref="RunOutcome.InstructionLimit"/> too).</summary>
    public int CycleBounds { get; private set; }

    public int Failures { get; private set; }

    public ulong Instructions { get; private set; }

    public ulong VmExits { get; private set; }

    public void Add(CaseResult result)
    {
        Cases++;
        Instructions += result.Instructions;
        VmExits += result.VmExits;
        if (result.Outcome is { } outcome) _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
        if (result.Rejection != null) Rejections++;
        if (result.CycleBound) CycleBounds++;
        if (result.Failed) Failures++;
    }
}
