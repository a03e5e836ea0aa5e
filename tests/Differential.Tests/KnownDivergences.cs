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

    private static readonly InstructionInfoFactory Info = new();

    public static readonly Entry[] All =
    [
        new(GuestMode.Protected32, null, "vector", ReadOnlyReadModifyWrite, Oracle.Bochs, c => c.Kind == "segment read-only" && c.Steps.Any(IsReadModifyWrite)),
        new(GuestMode.Long64, null, "vector", NonCanonicalSegment, Oracle.Bochs, c => c.Steps.Any(HasOverrideAgainstDefaultSegment)),
    ];

    private const string ReadOnlyReadModifyWrite =
        "sim bug: a read-modify-write (ADD/NEG/NOT/SHR/SHRD/RCL/BTS ... m) through a read-only data segment runs instead of raising #GP(0); plain writes fault (SDM: #GP(0) if the destination is in a non-writable segment)";

    private const string NonCanonicalSegment =
        "sim bug: for a non-canonical address in 64-bit mode sim picks #SS(0) or #GP(0) by the segment override (SS:[rbx] gives #SS, DS:[rbp] gives #GP); the SDM ignores CS/DS/ES/SS overrides in 64-bit mode, so the base register decides (rBP/rSP: #SS(0)), as Bochs does";

    private static bool IsReadModifyWrite(CaseStep s) =>
        s.Instruction.Code != Code.INVALID
        && Info.GetInfo(s.Instruction).GetUsedMemory().Any(m => m.Access is OpAccess.ReadWrite or OpAccess.ReadCondWrite);

    /// <summary>A memory operand with a CS/DS/ES/SS override that differs from the segment its base register implies (SS for rBP/rSP, DS otherwise).</summary>
    private static bool HasOverrideAgainstDefaultSegment(CaseStep s)
    {
        var ins = s.Instruction;
        if (ins.Code == Code.INVALID || ins.SegmentPrefix is not (Register.CS or Register.DS or Register.ES or Register.SS)) return false;
        var stackBase = ins.MemoryBase is Register.RBP or Register.RSP or Register.EBP or Register.ESP;
        return stackBase != (ins.SegmentPrefix == Register.SS);
    }

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
