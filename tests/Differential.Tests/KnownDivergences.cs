using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// CPU bugs found by this suite and reported to the CPU's owner. A divergence that matches an entry
/// is printed and skipped so the suite stays green until the fix lands; then the entry is removed.
/// <see cref="OracleDeviations"/> holds the divergences where the reference emulator is wrong.
/// </summary>
public static class KnownDivergences
{
    /// <param name="Mode">The mode it shows in; null for all.</param>
    /// <param name="Mnemonic">A mnemonic of the case's steps that triggers it; null when <paramref name="When"/> decides.</param>
    /// <param name="Field">Start of the divergent field's name ("flags", "vector", "eax" ...); null for any.</param>
    /// <param name="Against">The oracle it shows against; null for any.</param>
    /// <param name="When">A further condition on the case; null for none.</param>
    /// <param name="Values">A condition on the two values; null for none.</param>
    public sealed record Entry(GuestMode? Mode, Mnemonic? Mnemonic, string? Field, string Description, Oracle? Against = null, Func<TestCase, bool>? When = null,
        Func<Divergence, bool>? Values = null);

    public static readonly Entry[] All = [];

    public static Entry? Match(Divergence d)
    {
        foreach (var e in All.Concat(OracleDeviations.All))
        {
            if (e.Mode is { } m && m != d.Case.Mode) continue;
            if (e.Against is { } o && o != d.Oracle) continue;
            if (e.Field != null && !d.Field.StartsWith(e.Field, StringComparison.Ordinal)) continue;
            if (e.Mnemonic is { } mn && !d.Case.Steps.Any(s => s.Instruction.Mnemonic == mn)) continue;
            if (e.When is { } when && !when(d.Case)) continue;
            if (e.Values is { } values && !values(d)) continue;
            return e;
        }
        return null;
    }
}
