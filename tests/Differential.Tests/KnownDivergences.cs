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

    /// <summary>Probe cases (<see cref="VmcsOracleTests"/>) whose line sim gets wrong, not fixed yet.</summary>
    public static readonly ProbeDeviation[] Probes =
    [
        new("svm", SixteenBitCodeRip, o => o.Sim != o.Bochs && (o.Value(0x412) ?? 0xA9B) is var cs
            && ((cs & 0x600) == 0 || ((cs & 0x400) == 0 && (((o.Value(0x558) ?? 0x80000011) & 1UL << 31) == 0 || ((o.Value(0x4D0) ?? 0x1500) & 1 << 8) == 0)))),
        new("svm", NonCodeCs, o => (o.Value(0x412) ?? 0xA9B) is var cs && ((cs & 0x10) == 0 || (cs & 0x8) == 0) && o.Sim != o.Bochs),
        new("svm", InjectedBreakpointExt, o => (o.Value(0x0A8) ?? 0) is var e && (e & 0x80000700) == 0x80000300 && (e & 0xFF) is 3 or 4 && o.Sim != o.Bochs),
    ];

    private const string NonCodeCs =
        "Unresolved: a guest entered by VMRUN with CS attributes of a system or data segment (S = 0, or type bit 3 clear): sim fetches and executes through CS as loaded "
        + "(segment types are checked when a selector is loaded, not on each fetch: SDM vol. 3, 5.4 and 5.8), Bochs raises #UD or #GP at the first instruction; VMRUN "
        + "checks no CS type (APM vol. 2, 15.5.1), and the APM does not say what a fetch through such a CS does. Kept here until the APM or hardware decides";

    private const string InjectedBreakpointExt =
        "Unresolved: EVENTINJ of #BP or #OF as an exception (type 3) delivered through an IDT too short for it: sim's #GP error code has EXT = 0 (as for INT3/INTO), Bochs' EXT = 1 "
        + "(as for a hardware exception); the APM (vol. 2, 15.20) says type-3 injection of vectors 3 and 4 is treated like the INT3/INTO traps for the saved RIP but does not spell out EXT. "
        + "Kept here until the APM or hardware decides";

    private const string SixteenBitCodeRip =
        "sim: with a 16-bit code segment (CS.D = 0 in compatibility mode, or outside long mode when CR0.PG or EFER.LME is clear) the Cpu masks RIP to 16 bits before the first fetch, so the guest entered at RIP 520800h "
        + "fetches at 0800h; the fetch address is CS.base + EIP checked against the CS limit (SDM vol. 3, 3.4.2; IP wraps only when an instruction advances it), "
        + "as Bochs does. Since the guest shares the probe's memory, the generated VMCBs keep CS.L or CS.D set until the fix, which is in Cpu/ (owned elsewhere)";

    /// <summary>Why the generated VMCSs never enter the shutdown activity state: sim would stop the whole run there.</summary>
    public const string VmxShutdownActivity =
        "sim: a VM entry into the shutdown activity state (guest activity state 2) stops the machine as a triple fault would, because the Cpu's shutdown state is final "
        + "(Processor.HandleEvents returns StopReason.Shutdown before the virtualization hook sees the deadline); the SDM (vol. 3, 26.5.1) has the VMX-preemption timer "
        + "count down in that state and cause a VM exit (reason 52), as Bochs does. The fix is in Cpu/ (owned elsewhere); until then the VMX probe cases leave activity state 2 out";

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
