namespace Sim.Differential.Tests;

/// <summary>
/// A known reason why a probe case's line differs between sim and Bochs: a Bochs bug or a difference of the CPU models
/// (<see cref="OracleDeviations.Probes"/>), or a sim bug not fixed yet (<see cref="KnownDivergences.Probes"/>).
/// </summary>
public sealed record ProbeDeviation(string Probe, string Description, Func<ProbeCaseOutcome, bool> When);

/// <summary>A case, the line each emulator printed for it, and what each printed before the cases (its capabilities).</summary>
public sealed record ProbeCaseOutcome(ProbeWrite[] Case, string Sim, string Bochs, ProbeOutput SimRun, ProbeOutput BochsRun)
{
    public bool Writes(uint target) => Case.Any(w => w.Target == target);

    public ulong? Value(uint target) => Case.LastOrDefault(w => w.Target == target) is { Name: not null } w ? w.Value : null;
}
