using System.Numerics;
using System.Text;
using Sim.Cpu;
using Sim.Images.Guests;

namespace Sim.Differential.Tests;

/// <summary>
/// Runs probe cases on sim and Bochs and compares their lines. A case with several writes whose two lines report the same
/// unordered stage (<see cref="ProbeOutcome.Unordered"/>) passes when each line is what one of its writes alone gives on
/// that emulator: several checks failed and each processor reported one of them, as the SDM allows. So each multi-write case
/// also runs as its single writes, in the same boot. A case that still differs, and matches no <see cref="ProbeDeviation"/>,
/// is shrunk: fewer writes and values closer to the baseline, each round of candidates in one more boot, to the simplest
/// case that still differs. <c>normalize</c> drops what a line holds that the architecture leaves undefined.
/// </summary>
public sealed class ProbeComparison(
    string probe, IReadOnlyList<ProbeMutation> mutations, Func<IReadOnlyList<ProbeWrite[]>, BuiltInGuest> guest, CpuVendor vendor, string bochsModel, Action<string> log,
    Func<string, string>? normalize = null)
{
    public sealed record Divergence(ProbeWrite[] Case, string Sim, string Bochs);

    private readonly Dictionary<string, (string Sim, string Bochs)> _outcomes = [];

    public int Boots { get; private set; }

    /// <summary>Cases whose lines differ as the SDM allows: several checks failed and each emulator reported one of them.</summary>
    public int Permitted { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    public ProbeRunner.Result? First { get; private set; }

    private static string Key(ProbeWrite[] c) => string.Join(",", c.Select(w => w.ToString()));

    private static IEnumerable<ProbeWrite[]> WithSingles(IEnumerable<ProbeWrite[]> cases) =>
        cases.SelectMany(c => c.Length == 1 ? [c] : c.Select(w => new[] { w }).Prepend(c));

    /// <summary>Runs the cases not run yet in one boot of each emulator.</summary>
    private void Run(IEnumerable<ProbeWrite[]> cases)
    {
        var batch = WithSingles(cases).DistinctBy(Key).Where(c => !_outcomes.ContainsKey(Key(c))).ToList();
        if (batch.Count == 0) return;
        var result = ProbeRunner.Run(guest(batch), vendor, bochsModel);
        Boots++;
        Elapsed += result.Elapsed;
        First ??= result;
        log($"{probe}: {batch.Count} cases in {result.Elapsed.TotalSeconds:F1} s (sim: {result.SimRun}; {result.BochsRun})");
        if (!result.Sim.Done || !result.Bochs.Done)
        {
            var stuck = Enumerable.Range(0, batch.Count).First(i => result.Sim.Line(i) is "" or "(none)" || result.Bochs.Line(i) is "" or "(none)");
            log($"{probe}: a run did not reach the end, case {stuck:x} [{string.Join(", ", batch[stuck])}]; sim:\n{Tail(result.Sim.Text)}\nBochs:\n{Tail(result.Bochs.Text)}");
        }
        var n = normalize ?? (line => line);
        for (var i = 0; i < batch.Count; i++) _outcomes[Key(batch[i])] = (n(result.Sim.Line(i)), n(result.Bochs.Line(i)));
    }

    private static string Tail(string text) => string.Join("\n", text.Split('\n').TakeLast(8));

    public (string Sim, string Bochs) Outcome(ProbeWrite[] c) => _outcomes[Key(c)];

    /// <summary>Null when sim and Bochs agree or the SDM lets them differ; else why the lines may still differ (a deviation), or "" when nothing explains it.</summary>
    public string? Explain(ProbeWrite[] c, IEnumerable<ProbeDeviation> deviations)
    {
        var (sim, bochs) = Outcome(c);
        if (sim == bochs) return null;
        var stage = ProbeOutcome.Of(sim);
        if (c.Length > 1 && stage == ProbeOutcome.Of(bochs) && ProbeOutcome.Unordered(stage))
        {
            var singles = c.Select(w => Outcome([w])).ToList();
            if (singles.Any(s => s.Sim == sim) && singles.Any(s => s.Bochs == bochs)) return null;
        }
        var outcome = new ProbeCaseOutcome(c, sim, bochs, First!.Sim, First.Bochs);
        return deviations.FirstOrDefault(d => d.Probe == probe && d.When(outcome))?.Description ?? "";
    }

    /// <summary>Runs <paramref name="cases"/> and returns the unexplained divergences, each shrunk (at most <paramref name="shrinkLimit"/> of them), and the explained ones.</summary>
    public (List<Divergence> Unexplained, List<(Divergence Divergence, string Why)> Explained) Compare(IReadOnlyList<ProbeWrite[]> cases, IReadOnlyList<ProbeDeviation> deviations, int shrinkLimit)
    {
        Run(cases);
        var unexplained = new List<Divergence>();
        var explained = new List<(Divergence, string)>();
        foreach (var c in cases)
        {
            var why = Explain(c, deviations);
            if (why == null)
            {
                if (Outcome(c) is var (s, b) && s != b) Permitted++;
                continue;
            }
            var (sim, bochs) = Outcome(c);
            if (why.Length > 0) explained.Add((new Divergence(c, sim, bochs), why));
            else unexplained.Add(new Divergence(c, sim, bochs));
        }
        var shrunk = unexplained.Take(shrinkLimit).Select(d => Shrink(d.Case, deviations)).ToList();
        return ([.. shrunk.Concat(unexplained.Skip(shrinkLimit))], explained);
    }

    private ProbeMutation MutationOf(ProbeWrite w) => mutations.First(m => m.Target == w.Target && m.Size == w.Size);

    private ulong Baseline(ProbeWrite w) => MutationOf(w).Baseline;

    /// <summary>How far a case is from the baseline: its writes, then the bits its values change, then the values.</summary>
    private (int, int, ulong) Complexity(ProbeWrite[] c) =>
        (c.Length, c.Sum(w => BitOperations.PopCount(w.Value ^ Baseline(w))), c.Aggregate(0UL, (s, w) => s + (w.Value ^ Baseline(w))));

    private IEnumerable<ProbeWrite[]> Simpler(ProbeWrite[] c)
    {
        if (c.Length > 1)
            for (var i = 0; i < c.Length; i++)
                yield return [.. c.Where((_, j) => j != i)];
        for (var i = 0; i < c.Length; i++)
        {
            var w = c[i];
            var baseline = Baseline(w);
            var diff = w.Value ^ baseline;
            if (BitOperations.PopCount(diff) <= 1 || !MutationOf(w).ShrinkValues) continue;
            var candidates = new List<ulong> { baseline ^ (diff & 0xFFFFFFFF), baseline ^ (diff & ~0xFFFFFFFFUL), 0 };
            for (var b = 0; b < 64; b++)
                if ((diff >> b & 1) != 0) candidates.Add(baseline ^ (1UL << b));
            foreach (var v in candidates.Where(v => v != w.Value).Distinct())
                yield return [.. c.Select((x, j) => j == i ? x with { Value = v } : x)];
        }
    }

    private Divergence Shrink(ProbeWrite[] c, IReadOnlyList<ProbeDeviation> deviations)
    {
        for (var round = 0; round < 6; round++)
        {
            var candidates = Simpler(c).ToList();
            if (candidates.Count == 0) break;
            Run(candidates);
            var better = candidates.Where(x => Explain(x, deviations) == "").OrderBy(Complexity).FirstOrDefault();
            if (better == null || Complexity(better).CompareTo(Complexity(c)) >= 0) break;
            c = better;
        }
        var (sim, bochs) = Outcome(c);
        return new Divergence(c, sim, bochs);
    }

    public static string Describe(IEnumerable<Divergence> divergences)
    {
        var text = new StringBuilder();
        foreach (var d in divergences)
            text.Append("  [").Append(string.Join(", ", d.Case.Select(w => w.ToString()))).Append("]: sim \"").Append(d.Sim).Append("\", Bochs \"").Append(d.Bochs).Append("\"\n");
        return text.ToString();
    }
}
