using System.Diagnostics;
using System.Text;

namespace Sim.Differential.Tests;

/// <summary>
/// Runs cases on sim and Bochs (and, for cases QEMU can judge, on QEMU too) and sorts what differs:
/// sim against Bochs decides the test; where QEMU is asked, disagreements of QEMU with both are
/// listed as QEMU's, and cases where all three differ are listed apart.
/// </summary>
public static class BochsRun
{
    public sealed record Result(
        int Cases, int Faults, List<Divergence> Unknown, List<(Divergence, KnownDivergences.Entry)> Known,
        List<string> Failures, List<Divergence> QemuOnly, List<Divergence> ThreeWay, List<(TestCase Case, CaseRecord Bochs)> Records, TimeSpan Elapsed)
    {
        /// <summary>What QEMU did not run: its results only inform, so a short run is noted, not failed.</summary>
        public List<string> Notes { get; } = [];
    }

    /// <summary>Bochs boots its BIOS per guest, so guests hold many cases; 16-bit guests are limited by their 64 KiB code segment.</summary>
    public static int CasesPerGuest(GuestMode mode) => mode.Bitness() == 16 ? 350 : 1000;

    public static Result Run(GuestMode mode, int seed, int totalCases, bool bochsOnly) =>
        Run(mode, seed, totalCases, bochsOnly ? (g, i) => g.GenerateBochsOnly(i) : (g, i) => g.Generate(i),
            bochsOnly ? CaseGenerator.BochsOnlyOptions(mode) : default, withQemu: !bochsOnly);

    /// <summary>Cases from <paramref name="generate"/> in guests built with <paramref name="options"/>; QEMU's results are listed, never decide.</summary>
    public static Result Run(GuestMode mode, int seed, int totalCases, Func<CaseGenerator, int, TestCase> generate, GuestOptions options, bool withQemu)
    {
        BochsRunner.EnsureInstalled();
        if (withQemu) QemuRunner.EnsureInstalled();
        var watch = Stopwatch.StartNew();
        var unknown = new List<Divergence>();
        var known = new List<(Divergence, KnownDivergences.Entry)>();
        var failures = new List<string>();
        var qemuOnly = new List<Divergence>();
        var threeWay = new List<Divergence>();
        var records = new List<(TestCase, CaseRecord)>();
        var notes = new List<string>();
        var faults = 0;
        var perGuest = CasesPerGuest(mode);
        var guests = (totalCases + perGuest - 1) / perGuest;
        for (var g = 0; g < guests; g++)
        {
            var generator = new CaseGenerator(mode, seed * 1000 + g);
            var first = g * perGuest;
            var cases = Enumerable.Range(first, Math.Min(perGuest, totalCases - first))
                .Select(i => generate(generator, i)).ToList();
            var guest = GuestBuilder.Build(mode, cases, generator.Pristine, options);
            var bochsTask = Task.Run(() => BochsRunner.Run(guest, TimeSpan.FromSeconds(60)));
            var qemuTask = withQemu ? Task.Run(() => QemuRunner.Run(guest, TimeSpan.FromSeconds(60))) : null;
            var sim = SimRunner.Run(guest, 2_000_000_000);
            var bochs = bochsTask.Result;
            var simRecords = CaseRecord.Parse(mode, sim.DebugPortBytes);
            var bochsRecords = CaseRecord.Parse(mode, bochs.DebugPortBytes);
            var qemuRecords = qemuTask is null ? null : CaseRecord.Parse(mode, qemuTask.Result.DebugPortBytes);
            if (qemuRecords != null && qemuRecords.Count < cases.Count)
                notes.Add($"{mode} guest {g}: QEMU ran {qemuRecords.Count} of {cases.Count} cases ({qemuTask!.Result.Diagnostics}); next case: {CaseFormatter.Describe(cases[qemuRecords.Count])}");
            if (!bochs.Exited || bochsRecords.Count != cases.Count)
            {
                var next = bochsRecords.Count < cases.Count ? CaseFormatter.Describe(cases[bochsRecords.Count]) : "";
                // A case may leave state (SS, memory) that only the next one trips over.
                var last = bochsRecords.Count > 0 ? CaseFormatter.Describe(cases[bochsRecords.Count - 1]) : "";
                failures.Add($"{mode} guest {g}: Bochs did not run all cases ({bochsRecords.Count} of {cases.Count} records). {bochs.Diagnostics}\nlast recorded case: {last}\nnext case: {next}");
                continue;
            }
            for (var i = 0; i < cases.Count; i++)
            {
                var c = cases[i];
                if (bochsRecords[i].CaseIndex != i)
                {
                    failures.Add($"{mode} guest {g}: Bochs record {i} is for position {bochsRecords[i].CaseIndex}, expected {i}");
                    break;
                }
                if (bochsRecords[i].Vector >= 0) faults++;
                records.Add((c, bochsRecords[i]));
                if (i >= simRecords.Count || simRecords[i].CaseIndex != i)
                {
                    failures.Add($"{mode} guest {g}: sim stopped producing records at case {c.Index} ({sim.Diagnostics}); Bochs' record: vector {bochsRecords[i].Vector}.\n{CaseFormatter.Describe(c)}");
                    break;
                }
                var simVsBochs = RecordComparer.Compare(c, simRecords[i], bochsRecords[i], Oracle.Bochs);
                foreach (var d in simVsBochs)
                {
                    if (KnownDivergences.Match(d) is { } e) known.Add((d, e));
                    else unknown.Add(d);
                }
                if (qemuRecords is null || i >= qemuRecords.Count || qemuRecords[i].CaseIndex != i) continue;
                // QEMU in the "sim" seat: what it gets wrong against Bochs.
                var qemuVsBochs = RecordComparer.Compare(c, qemuRecords[i], bochsRecords[i], Oracle.Bochs);
                if (qemuVsBochs.Count == 0) continue;
                var simVsQemu = RecordComparer.Compare(c, simRecords[i], qemuRecords[i], Oracle.Qemu);
                if (simVsBochs.Count == 0) qemuOnly.AddRange(qemuVsBochs);
                else if (simVsQemu.Count > 0) threeWay.AddRange(simVsBochs);
            }
            if (!sim.Exited && simRecords.Count == cases.Count)
                failures.Add($"{mode} guest {g}: sim did not reach the exit port after the last case ({sim.Diagnostics})");
        }
        var result = new Result(totalCases, faults, unknown, known, failures, qemuOnly, threeWay, records, watch.Elapsed);
        result.Notes.AddRange(notes);
        return result;
    }

    public static string Report(GuestMode mode, Result r, int limit = 25)
    {
        var sb = new StringBuilder();
        sb.Append($"{mode} vs Bochs: {r.Cases} cases ({r.Faults} ending in an exception) in {r.Elapsed.TotalSeconds:F1}s; {r.Unknown.Count} divergences, {r.Known.Count} known");
        sb.Append($"; QEMU alone differs from Bochs and sim in {r.QemuOnly.Select(d => d.Case).Distinct().Count()} cases, all three differ in {r.ThreeWay.Select(d => d.Case).Distinct().Count()}\n");
        foreach (var kind in r.Records.GroupBy(x => x.Case.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var outcomes = kind.GroupBy(x => x.Bochs.Vector).OrderBy(g => g.Key).Select(g => $"{(g.Key < 0 ? "none" : "#" + g.Key)}: {g.Count()}");
            sb.Append($"  {kind.Key}: {kind.Count()} cases, Bochs' exceptions {string.Join(", ", outcomes)}\n");
        }
        foreach (var group in r.Known.GroupBy(k => k.Item2.Description))
            sb.Append($"  known ({group.Count()}x): {group.Key}\n");
        foreach (var f in r.Failures) sb.Append(f).Append('\n');
        foreach (var n in r.Notes) sb.Append(n).Append('\n');
        sb.Append(CaseFormatter.Describe(r.Unknown.GroupBy(d => d.Case).Take(limit).SelectMany(g => g)));
        if (r.ThreeWay.Count > 0)
        {
            sb.Append("all three differ (sim vs Bochs shown):\n");
            sb.Append(CaseFormatter.Describe(r.ThreeWay.GroupBy(d => d.Case).Take(limit).SelectMany(g => g)));
        }
        if (r.QemuOnly.Count > 0)
        {
            sb.Append("QEMU differs from Bochs where sim agrees with Bochs (QEMU in the sim column):\n");
            sb.Append(CaseFormatter.Describe(r.QemuOnly.GroupBy(d => d.Case).Take(limit).SelectMany(g => g)));
        }
        return sb.ToString();
    }
}
