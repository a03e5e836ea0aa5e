namespace Sim.Fuzz;

/// <summary>The tally of a run: per kind, and every host-side failure in case order.</summary>
public sealed class FuzzSummary
{
    private readonly SortedDictionary<FuzzKind, KindSummary> _kinds = [];
    private readonly List<CaseResult> _failures = [];

    public IReadOnlyCollection<KindSummary> Kinds => _kinds.Values;

    /// <summary>Cases whose exception escaped, known ones included (see <see cref="CaseResult.Failed"/>).</summary>
    public IReadOnlyList<CaseResult> Failures => _failures;

    public int Cases { get; private set; }

    /// <summary>Host-side failures that are not known ones: what makes `sim fuzz` exit with status 1.</summary>
    public int NewFailures { get; private set; }

    public void Add(CaseResult result)
    {
        Cases++;
        if (!_kinds.TryGetValue(result.Case.Kind, out var kind)) _kinds[result.Case.Kind] = kind = new KindSummary(result.Case.Kind);
        kind.Add(result);
        if (result.Failure == null) return;
        _failures.Add(result);
        if (result.Failed) NewFailures++;
    }
}
