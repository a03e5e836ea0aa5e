using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// The x87 cases' oracle deviations (<see cref="X87DifferentialTests"/>). QEMU 7.2's x87 leaves the SDM in so many ways
/// (no stack faults, C1 not kept, transcendentals in double) that its divergences are decided by Bochs: where Bochs gives
/// sim's record the case counts as QEMU's, under the first of the reasons below that fits. Bochs' own differences from sim
/// are the ones <see cref="MatchBochsX87"/> lists, each decided by the SDM and the host's x87 (AMD).
/// </summary>
public static partial class SimdOracleDeviations
{
    public const string QemuX87StackFaults =
        "QEMU 7.2 detects no x87 stack fault: it reads an empty register's stale contents and pushes over a full one, without IE, SF, C1 or the "
        + "real indefinite; the SDM (vol. 1, 8.5.1.1) makes both #IS (IE = SF = 1, C1 = 0 for underflow, 1 for overflow) and, masked, stores the indefinite; Bochs does as sim";

    public const string QemuX87RoundedUpC1 =
        "QEMU 7.2 does not set C1 when an x87 result was rounded up (and does not clear it otherwise); the SDM (vol. 1, 8.1.3.1 and table 8-10: "
        + "C1 = 1 if the inexact result was rounded up) does, as Bochs does";

    public const string QemuX87TranscendentalsInDouble =
        "QEMU 7.2 computes FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1 in the host's double precision (and rounds them by the "
        + "precision control), so the low bits of the 64-bit significand, C1 and #P differ; the SDM (vol. 1, 8.3.10) bounds the error by 1 ulp "
        + "of the extended result and the precision control does not apply (8.1.5.2); Bochs gives sim's result";

    public const string QemuX87ComparisonEflags =
        "QEMU 7.2's FCOMI, FCOMIP, FUCOMI and FUCOMIP leave OF, SF and AF as they were; the SDM (vol. 2, FCOMI/FCOMIP/FUCOMI/FUCOMIP) sets them to 0 "
        + "whether or not an invalid-operation exception is detected, as Bochs does";

    public const string QemuX87DenormalFlag =
        "QEMU 7.2 does not report the x87 denormal-operand exception (DE) for a denormal or pseudo-denormal source of an arithmetic or comparison "
        + "instruction, nor, unmasked, the #MF it causes; the SDM (vol. 1, 8.5.2) does, as Bochs does";

    public const string QemuX87PrecisionControlOnLoads =
        "QEMU 7.2 rounds the value FBLD loads by the precision control (24 or 53 bits); the SDM (vol. 1, 8.1.5.2) applies the precision control only "
        + "to FADD, FSUB(R), FMUL, FDIV(R), FSQRT and their forms; a load is exact, as in Bochs";

    public const string QemuX87Other =
        "QEMU 7.2's x87 differs and Bochs gives sim's record: condition codes the SDM leaves undefined handled otherwise (C3 after FSQRT, FINCSTP, "
        + "FDECSTP: the host, Bochs and sim leave them), unsupported formats (unnormals, pseudo-NaNs, pseudo-infinities) not treated as invalid "
        + "operands (SDM vol. 1, 8.2.2), NaN selection, or one of the differences above carried on by a later instruction";

    private static readonly Mnemonic[] Transcendentals =
        [Mnemonic.Fsin, Mnemonic.Fcos, Mnemonic.Fsincos, Mnemonic.Fptan, Mnemonic.Fpatan, Mnemonic.F2xm1, Mnemonic.Fyl2x, Mnemonic.Fyl2xp1];

    private static readonly Mnemonic[] Trigonometric = [Mnemonic.Fsin, Mnemonic.Fcos, Mnemonic.Fsincos, Mnemonic.Fptan];

    private static readonly Mnemonic[] CompareToEflags = [Mnemonic.Fcomi, Mnemonic.Fcomip, Mnemonic.Fucomi, Mnemonic.Fucomip];

    /// <summary>Why QEMU's record differs from sim's, for a case Bochs has decided for sim.</summary>
    public static string X87QemuReason(SimdCase c, ReadOnlySpan<byte> sim, ReadOnlySpan<byte> qemu)
    {
        var fsw = SimdDifferentialRun.Values(sim, qemu, "fsw", 2, 2);
        if ((fsw.Sim & 0x40) != 0 && (fsw.Qemu & 0x40) == 0) return QemuX87StackFaults;
        if (c.Instructions.Any(i => Transcendentals.Contains(i.Mnemonic))) return QemuX87TranscendentalsInDouble;
        if ((fsw.Sim & 0x02) != 0 && (fsw.Qemu & 0x02) == 0) return QemuX87DenormalFlag;
        var eflags = SimdDifferentialRun.Values(sim, qemu, "eflags", SimdGuestBuilder.FlagsOffset, 8);
        if (((eflags.Sim ^ eflags.Qemu) & 0x890) != 0 && c.Instructions.Any(i => CompareToEflags.Contains(i.Mnemonic))) return QemuX87ComparisonEflags;
        if ((BitConverter.ToUInt16(c.Image, 0) & 0x300) != 0x300 && c.Instructions.Any(i => i.Mnemonic == Mnemonic.Fbld)) return QemuX87PrecisionControlOnLoads;
        var onlyC1 = true;
        foreach (var (name, offset, size) in SimdDifferentialRun.Fields(false, true))
        {
            var (s, q) = SimdDifferentialRun.Values(sim, qemu, name, offset, size);
            if (s != q && !(name is "fsw" or "rax" && (s ^ q) == 0x200) && !(name.StartsWith("mem") && IsC1Only(s ^ q))) onlyC1 = false;
        }
        return onlyC1 ? QemuX87RoundedUpC1 : QemuX87Other;
    }

    /// <summary>Whether a difference in a stored quadword is C1 (bit 9) of one or more stored status words.</summary>
    private static bool IsC1Only(ulong difference)
    {
        for (var w = 0; w < 4; w++) difference &= ~(0x200UL << (16 * w));
        return difference == 0;
    }

    public const string BochsComparisonC1 =
        "FCOMI, FCOMIP, FUCOMI and FUCOMIP: the SDM (vol. 2, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FPU flags affected) has C1 set to 0, as Bochs 2.7 does; "
        + "the host's x87 leaves C1 as it was unless the stack underflowed, and sim follows the hardware (Processor.X87Comparison)";

    public const string BochsTrigonometricReduction =
        "FSIN, FCOS, FSINCOS and FPTAN of an operand beyond π/4: the SDM (vol. 1, 8.3.8) has the argument reduced by the x87's internal π, "
        + "0.C90FDAA22168C234C × 2^2 (66 bits), as Bochs 2.7 and the host's x87 do, so that far from zero their results are many ulps from the true "
        + "function (for 4024:CDD7005443776800, cos is BFFD:AA7E452ED3A059D7 correctly rounded, Bochs gives AA7E452C859ECCDA, the host AA7E452C859ECCDE); "
        + "sim reduces by the exact π (Transcendental.Reduce, a deliberate choice tested by X87TranscendentalTests against mpmath), so here sim, not "
        + "the oracle, departs from the manual's rule; C1 and #P follow the rounding";

    public const string BochsTranscendentalPrecision =
        "Bochs 2.7's F2XM1, FYL2X and FPATAN are not always within the SDM's bound (vol. 1, 8.3.10: 1 ulp; see also OracleDeviations.CGuestLines, "
        + "FYL2X(3, 0.7)), and its FPATAN reports #U and #D when y/x underflows inside though the result is not tiny and no operand is denormal "
        + "(FPATAN(8003:A06A30BB69D32C3D, C02E:8B59467458A1EF61) = −π: the host reports #P only, as sim); sim rounds the exact value once by RC, "
        + "C1 and #P following; with those exceptions unmasked the difference carries on to ES, TOP and the stack";

    public const string FyL2XP1OutOfRange =
        "FYL2XP1 with ST(0) outside ±(1 − √2/2): the SDM (vol. 2, FYL2XP1) leaves the result undefined; sim reports #IA where ST(0) + 1 < 0, as FYL2X "
        + "does for a negative operand, and computes y·log2(x + 1) otherwise; Bochs 2.7 and the host compute other values without #IA (the host: "
        + "FYL2XP1(−2, 1) = −2, FYL2XP1(−2^77·(1 + 2^−63), −1308) = the operand, with #P); so with #IA unmasked, sim's next x87 instruction takes #MF where theirs do not";

    public const string BochsLoadUnderflowBeforeOverflow =
        "FLD ST(i) from an empty register onto a full one: Bochs 2.7 reports the stack overflow (C1 = 1); the host's x87 reports the underflow "
        + "(IE, SF, C1 = 0, the indefinite pushed), as sim does; the SDM (vol. 1, 8.5.1.1) gives no precedence between the two";

    public const string BochsScaleBeyondBiasAdjust =
        "FSCALE with an unmasked #U (or #O) whose exponent lies beyond the bias adjust's reach (SDM vol. 1, 8.5.5 and 8.5.4: the result's exponent is "
        + "biased by ±24576 and stored): Bochs 2.7 stores the exponent wrapped to 15 bits (2001:9FD78AA806D92DF6 for 441A:9FD78AA806D92DF6 scaled by "
        + "−4294967294), with C1 and PE of that wrapped value; the host's x87 stores a zero of the result's sign with UE, PE and ES set, as sim does";

    /// <summary>
    /// Bochs' x87 differences from sim: C1 of FCOMI, an empty source of FLD onto a full register, and its transcendentals;
    /// a transcendental case may differ in any field but FCW and the vector of a fault. Nothing else is expected.
    /// </summary>
    private static string? MatchBochsX87(SimdCase c, ReadOnlySpan<byte> sim, ReadOnlySpan<byte> bochs)
    {
        var mnemonics = c.Instructions.Select(i => i.Mnemonic).ToHashSet();
        var compare = mnemonics.Overlaps(CompareToEflags);
        var load = c.Instructions.Any(i => i.Mnemonic == Mnemonic.Fld && i.Op0Kind == OpKind.Register);
        var fcw = BitConverter.ToUInt16(c.Image, 0);
        var scaleUnmasked = mnemonics.Contains(Mnemonic.Fscale) && (fcw & 0x18) != 0x18;
        var transcendental = mnemonics.Contains(Mnemonic.Fyl2xp1) ? FyL2XP1OutOfRange
            : mnemonics.Overlaps(Trigonometric) ? BochsTrigonometricReduction
            : mnemonics.Overlaps(Transcendentals) ? BochsTranscendentalPrecision : null;
        string? reason = null;
        foreach (var (name, offset, size) in SimdDifferentialRun.Fields(false, true))
        {
            var (s, b) = SimdDifferentialRun.Values(sim, bochs, name, offset, size);
            if (s == b) continue;
            var c1 = (name is "fsw" or "rax" && (s ^ b) == 0x200) || (name.StartsWith("mem") && IsC1Only(s ^ b));
            if (compare && c1) reason ??= BochsComparisonC1;
            else if (load && c1) reason ??= BochsLoadUnderflowBeforeOverflow;
            else if (scaleUnmasked && (name.StartsWith("st") || (name is "fsw" or "rax" && ((s ^ b) & ~0x220UL) == 0))) reason ??= BochsScaleBeyondBiasAdjust;
            else if (transcendental == FyL2XP1OutOfRange && name is not ("fcw" or "mxcsr")) reason = transcendental;
            else if (transcendental != null && name is not ("fcw" or "vector" or "mxcsr")) reason = transcendental;
            else return null;
        }
        return reason;
    }
}
