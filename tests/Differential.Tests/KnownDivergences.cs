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
        new(null, Mnemonic.Leave, null,
            "sim: LEAVE pops rBP with the wrong size outside 64-bit mode (32-bit: ESP = EBP + 8, not + 4; 16-bit: SP = BP + 8 and EBP gets 32 bits, not BP + 2 and 16 bits)"),
        new(null, Mnemonic.Enter, null,
            "sim: ENTER pushes rBP (and the nested frame pointers) as 16 bits in 32- and 64-bit code (32-bit: ESP = EBP - 2 after ENTER 0,0)"),
        new(null, Mnemonic.Aaa, null,
            "sim: AAA adds 6 to AL alone; the SDM's operation is AX = AX + 106h (AX=33FFh, AF=0: QEMU and the SDM give 3505h, sim 3405h)"),
        new(null, Mnemonic.Aas, null,
            "sim: AAS subtracts 6 from AL alone; the SDM's operation is AX = AX - 6, then AH = AH - 1"),
        new(GuestMode.Long64, Mnemonic.Movsb, null, A32String),
        new(GuestMode.Long64, Mnemonic.Movsw, null, A32String),
        new(GuestMode.Long64, Mnemonic.Movsd, null, A32String),
        new(GuestMode.Long64, Mnemonic.Movsq, null, A32String),
        new(GuestMode.Long64, Mnemonic.Cmpsb, null, A32String),
        new(GuestMode.Long64, Mnemonic.Cmpsw, null, A32String),
        new(GuestMode.Long64, Mnemonic.Cmpsd, null, A32String),
        new(GuestMode.Long64, Mnemonic.Cmpsq, null, A32String),
        new(GuestMode.Long64, Mnemonic.Stosb, null, A32String),
        new(GuestMode.Long64, Mnemonic.Stosw, null, A32String),
        new(GuestMode.Long64, Mnemonic.Stosd, null, A32String),
        new(GuestMode.Long64, Mnemonic.Stosq, null, A32String),
        new(GuestMode.Long64, Mnemonic.Lodsb, null, A32String),
        new(GuestMode.Long64, Mnemonic.Lodsw, null, A32String),
        new(GuestMode.Long64, Mnemonic.Lodsd, null, A32String),
        new(GuestMode.Long64, Mnemonic.Lodsq, null, A32String),
        new(GuestMode.Long64, Mnemonic.Scasb, null, A32String),
        new(GuestMode.Long64, Mnemonic.Scasw, null, A32String),
        new(GuestMode.Long64, Mnemonic.Scasd, null, A32String),
        new(GuestMode.Long64, Mnemonic.Scasq, null, A32String),
        new(null, Mnemonic.Cmpxchg8b, null, CompareExchangeFlags),
        new(GuestMode.Long64, Mnemonic.Cmpxchg16b, null, CompareExchangeFlags),
    ];

    private const string CompareExchangeFlags =
        "oracle, not sim (suspected): after CMPXCHG8B/CMPXCHG16B QEMU 7.2 changes flags other than ZF (after SHL R14B,1 of 0, PF is 1 by hand and in sim, 0 in QEMU), and flag readers after it differ; verify with Bochs";

    private const string A32String =
        "sim: string instructions with 67h in 64-bit mode keep bits 63:32 of RCX/RSI/RDI; writing ECX/ESI/EDI must zero-extend";

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
