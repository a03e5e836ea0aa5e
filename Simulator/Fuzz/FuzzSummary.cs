namespace Sim.Fuzz;

/// <summary>The tally of a run: per kind, and every host-side failure in case order.</summary>
public sealed class FuzzSummary
{
    private readonly SortedDictionary<FuzzKind, KindSummary> _kinds = [];
    private readonly List<CaseResult> _failures = [];

    public IReadOnlyCollection<KindSummary> Kinds => _kinds.Values;

    /// <summary>Cases whose exception escaped (see <see cref="CaseResult.Failed"/>): what makes `sim fuzz` exit with status 1.</summary>
    public IReadOnlyList<CaseResult> Failures => _failures;

    public int Cases { get; private set; }

    public void Add(CaseResult result)
    {
        Cases++;
        if (!_kinds.TryGetValue(result.Case.Kind, out var kind)) _kinds[result.Case.Kind] = kind = new KindSummary(result.Case.Kind);
        kind.Add(result);
        if (result.Failed) _failures.Add(result);
    }
}
