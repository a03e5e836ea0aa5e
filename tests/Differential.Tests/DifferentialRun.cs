using System.Diagnostics;
using System.Text;

namespace Sim.Differential.Tests;

/// <summary>Generates guests for a mode, runs each on QEMU and on sim, and collects the divergences.</summary>
public static class DifferentialRun
{
    public sealed record Result(int Cases, int Faults, List<Divergence> Unknown, List<(Divergence, KnownDivergences.Entry)> Known, List<string> Failures, TimeSpan Elapsed);

    public static int CasesPerGuest(GuestMode mode) => mode.Bitness() == 16 ? 350 : 2000;

    public static Result Run(GuestMode mode, int seed, int totalCases)
    {
        QemuRunner.EnsureInstalled();
        var watch = Stopwatch.StartNew();
        var unknown = new List<Divergence>();
        var known = new List<(Divergence, KnownDivergences.Entry)>();
        var failures = new List<string>();
        var faults = 0;
        var perGuest = CasesPerGuest(mode);
        var guests = (totalCases + perGuest - 1) / perGuest;
        for (var g = 0; g < guests; g++)
        {
            var generator = new CaseGenerator(mode, seed * 1000 + g);
            var first = g * perGuest;
            var cases = Enumerable.Range(first, Math.Min(perGuest, totalCases - first)).Select(generator.Generate).ToList();
            var guest = GuestBuilder.Build(mode, cases, generator.Pristine);
            var qemuTask = Task.Run(() => QemuRunner.Run(guest, TimeSpan.FromSeconds(120)));
            var sim = SimRunner.Run(guest, 2_000_000_000);
            var qemu = qemuTask.Result;
            var qemuRecords = CaseRecord.Parse(mode, qemu.DebugPortBytes);
            var simRecords = CaseRecord.Parse(mode, sim.DebugPortBytes);
            if (!qemu.Exited || qemuRecords.Count != cases.Count)
            {
                var next = qemuRecords.Count < cases.Count ? CaseFormatter.Describe(cases[qemuRecords.Count]) : "";
                failures.Add($"{mode} guest {g}: QEMU did not run all cases ({qemuRecords.Count} of {cases.Count} records). {qemu.Diagnostics}\nnext case: {next}");
                continue;
            }
            for (var i = 0; i < cases.Count; i++)
            {
                var c = cases[i];
                if (qemuRecords[i].CaseIndex != i)
                {
                    failures.Add($"{mode} guest {g}: QEMU record {i} is for position {qemuRecords[i].CaseIndex}, expected {i}");
                    break;
                }
                if (qemuRecords[i].Vector >= 0) faults++;
                if (i >= simRecords.Count || simRecords[i].CaseIndex != i)
                {
                    failures.Add($"{mode} guest {g}: sim stopped producing records at case {c.Index} ({sim.Diagnostics}); QEMU's record: vector {qemuRecords[i].Vector}.\n{CaseFormatter.Describe(c)}");
                    break;
                }
                foreach (var d in RecordComparer.Compare(c, simRecords[i], qemuRecords[i]))
                {
                    if (KnownDivergences.Match(d) is { } e) known.Add((d, e));
                    else unknown.Add(d);
                }
            }
            if (!sim.Exited && simRecords.Count == cases.Count)
                failures.Add($"{mode} guest {g}: sim did not reach the exit port after the last case ({sim.Diagnostics})");
        }
        return new Result(totalCases, faults, unknown, known, failures, watch.Elapsed);
    }

    public static string Report(GuestMode mode, Result r, int limit = 25)
    {
        var sb = new StringBuilder();
        sb.Append($"{mode}: {r.Cases} cases ({r.Faults} ending in an exception) in {r.Elapsed.TotalSeconds:F1}s; {r.Unknown.Count} divergences, {r.Known.Count} known\n");
        foreach (var group in r.Known.GroupBy(k => k.Item2.Description))
            sb.Append($"  known ({group.Count()}x): {group.Key}\n");
        foreach (var f in r.Failures) sb.Append(f).Append('\n');
        var cases = r.Unknown.GroupBy(d => d.Case).Take(limit).SelectMany(g => g);
        sb.Append(CaseFormatter.Describe(cases));
        return sb.ToString();
    }
}
