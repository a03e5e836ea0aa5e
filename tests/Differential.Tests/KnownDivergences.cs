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
    public sealed record Entry(GuestMode? Mode, Mnemonic? Mnemonic, string? Field, string Description, Oracle? Against = null, Func<TestCase, bool>? When = null);

    public static readonly Entry[] All = [];

    /// <summary>Probe cases (<see cref="VmcsOracleTests"/>) whose line sim gets wrong, not fixed yet.</summary>
    public static readonly ProbeDeviation[] Probes =
    [
        new("svm", SvmGuestCpl, o => (((o.Value(0x4CB) ?? 0) & 3) != 0 || ((o.Value(0x412) ?? 0) >> 5 & 3) != 0 || ((o.Value(0x422) ?? 0) >> 5 & 3) != 0)
            && o.Sim != o.Bochs),
        new("svm", SixteenBitCodeRip, o => o.Sim != o.Bochs && (o.Value(0x412) ?? 0xA9B) is var cs
            && ((cs & 0x600) == 0 || ((cs & 0x400) == 0 && (((o.Value(0x558) ?? 0x80000011) & 1UL << 31) == 0 || ((o.Value(0x4D0) ?? 0x1500) & 1 << 8) == 0)))),
        new("svm", LongModeVirtual8086, o => ((o.Value(0x570) ?? 0) & 1 << 17) != 0 && o.Sim != o.Bochs),
        new("svm", InjectedBreakpointExt, o => (o.Value(0x0A8) ?? 0) is var e && (e & 0x80000700) == 0x80000300 && (e & 0xFF) is 3 or 4 && o.Sim != o.Bochs),
    ];

    private const string SvmGuestCpl =
        "sim: a guest entered by VMRUN runs at the CPL that the Cpu derives from CS (its DPL; SS's DPL when CS is no code segment), not at the VMCB's CPL field; the APM (vol. 2, 15.5, "
        + "table B-2: CPL is loaded from the VMCB, forced to 0 in real mode and 3 in virtual-8086 mode) and Bochs use the field, so HLT at CPL > 0 raises #GP (intercepted, 4Dh; at CPL 3 the fetch from a supervisor page faults first, 4Eh) "
        + "before the HLT intercept (15.9: instruction intercepts come after simple exceptions) where sim intercepts the HLT, and the other way round for a CS DPL > 0 with CPL 0. "
        + "The fix needs a way to set the Cpu's CPL (Cpu/, owned elsewhere)";

    private const string LongModeVirtual8086 =
        "sim: a long-mode guest entered with RFLAGS.VM set runs as in virtual-8086 mode (CPL 3, so its fetch from a supervisor page faults); virtual-8086 mode does not exist "
        + "in long mode and RFLAGS.VM has no effect there (APM vol. 2, 1.2.5 and 8.4; Intel SDM vol. 3, 20.1), as Bochs has it. The Cpu decides the mode (Cpu/, owned elsewhere)";

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
            return e;
        }
        return null;
    }
}
