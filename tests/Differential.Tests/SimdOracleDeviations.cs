using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// Where QEMU 7.2's TCG leaves the SDM on SIMD cases, with the manual's rule; a divergent case is QEMU's when every
/// differing field is explained by one of these. Bochs (which applies DAZ to the operands before its softfloat and
/// reports DE) takes sim's side on the first two. The VEX forms (the AVX cases, QEMU's <c>-cpu max</c>) show the same
/// deviations, under the same rules, and no others: QEMU computes them with the helpers of the legacy forms; Bochs 2.7
/// (corei7_skylake_x, built with AVX) differs from sim on AVX cases only in the RCP/RSQRT approximations. The FMA3,
/// F16C and AVX2 cases add QEMU's VSIB and half-precision deviations and Bochs' FMA denormal flag below.
/// </summary>
public static partial class SimdOracleDeviations
{
    public const string DenormalFlag =
        "QEMU 7.2 does not set MXCSR.DE for a denormal source operand (its softfloat flags only the denormals it flushes under DAZ); "
        + "the SDM (vol. 1, 11.5.2.2) sets DE whenever a source is denormal and DAZ = 0";

    public const string MinMaxUnderDaz =
        "QEMU 7.2's MINPS/MAXPS (and the SS/PD/SD forms) return the source as it was, an unflushed denormal, under DAZ; "
        + "the SDM (vol. 1, 10.2.3.4) converts a denormal source to a zero of its sign before the operation, so the result is that zero";

    public const string ReciprocalApproximation =
        "RCPPS/RCPSS/RSQRTPS/RSQRTSS are approximations whose low bits are implementation-specific (SDM vol. 2: relative error ≤ 1.5 × 2^−12); "
        + "sim computes them as QEMU does except the SDM's rules that a denormal source is a zero of its sign (so RSQRT of a negative denormal is −∞, not QEMU's default NaN) and a tiny result flushes to zero";

    public const string NaNSelection =
        "QEMU 7.2 chooses between two NaN operands of an SSE operation by the x87 rule (the larger significand); "
        + "the SDM (vol. 1, table 4-7, SSE column) returns the first source operand's NaN, quieted";

    /// <summary>Whether every differing lane (binary32 or binary64) holds a NaN in both results.</summary>
    private static bool BothNaNs(ulong s, ulong q)
    {
        static bool NaN32(uint x) => (x & 0x7FFF_FFFF) > 0x7F80_0000;
        static bool NaN64(ulong x) => (x & 0x7FFF_FFFF_FFFF_FFFF) > 0x7FF0_0000_0000_0000;
        if (NaN64(s) && NaN64(q)) return true;
        for (var lane = 0; lane < 2; lane++)
        {
            uint a = (uint)(s >> (32 * lane)), b = (uint)(q >> (32 * lane));
            if (a != b && !(NaN32(a) && NaN32(b))) return false;
        }
        return true;
    }

    public const string ConfirmedByBochs =
        "QEMU 7.2 differs and Bochs gives sim's result: one of the deviations above carried on by a later instruction (a NaN QEMU chose by the x87 rule, "
        + "then shifted or masked by integer SIMD, or a missing DE flag), decided by the second oracle";

    public const string EmmsTop =
        "QEMU 7.2's EMMS empties the tags but leaves TOP; the SDM (vol. 3, 12.2 and table 12-2) sets TOP to 000B on every MMX instruction, EMMS included, as Bochs does "
        + "(FXSAVE stores the registers in stack order, so the ST slots differ by the rotation too)";

    public const string BochsConvertFromMemory =
        "Bochs 2.7 makes the MMX transition (TOP = 0, tags valid) for CVTPI2PS/CVTPI2PD only with an MMX register source; "
        + "the SDM (vol. 2, CVTPI2PS, CVTPI2PD) says the instruction causes the transition whatever the source, as QEMU does";

    public const string VsibIndexFour =
        "QEMU 7.2 decodes a VSIB byte whose index field is 100b without VEX.X (XMM4/YMM4) as having no index, as a general-register SIB byte would, "
        + "so every element of the gather comes from the base address; the SDM (vol. 2, 2.3.12, VSIB memory addressing) has no such exception: "
        + "the index field with VEX.X selects any of the vector registers (the host's VGATHERQPD with XMM4 as index loads by its indices, as sim does)";

    public const string HalfToSingleUnderDaz =
        "QEMU 7.2's VCVTPH2PS flushes a denormal half to a zero of its sign under MXCSR.DAZ; the SDM (vol. 2, VCVTPH2PS) returns the exact normal single: "
        + "MXCSR.DAZ is ignored and treated as 0, and no denormal exception is reported (the host's F16C agrees)";

    public const string SingleToHalfUnderFtz =
        "QEMU 7.2's VCVTPS2PH flushes a tiny result to a zero of its sign under MXCSR.FTZ; the SDM (vol. 2, VCVTPS2PH) converts underflow results "
        + "to denormals: MXCSR.FTZ is ignored (the host's F16C agrees)";

    private static bool GathersByXmm4(SimdCase c) => c.Instructions.Any(i => i.MemoryIndex is Register.XMM4 or Register.YMM4);

    public const string BochsFmaDenormalTimesZero =
        "Bochs 2.7's fused multiply-add (VFMADD … VFNMSUB) does not set MXCSR.DE when a denormal factor meets a zero one; the SDM (vol. 1, 11.5.2.2; "
        + "vol. 2, VFMADD132PS: SIMD floating-point exceptions include Denormal) sets DE for any denormal source with DAZ = 0, as the host's FMA3 does for 0 × denormal + z";

    private static bool IsFusedMultiplyAdd(Mnemonic m) => m.ToString() is var n && (n.StartsWith("Vfmadd") || n.StartsWith("Vfmsub") || n.StartsWith("Vfnm"));

    public const string ExplicitLengthsWithRexW =
        "QEMU 7.2's PCMPESTRI/PCMPESTRM with REX.W (and VPCMPESTRI/M with VEX.W1) take the explicit lengths from EAX and EDX; the SDM (vol. 2, 4.1.3 and PCMPESTRI) "
        + "takes them from RAX and RDX with REX.W in 64-bit mode, so a value of 2^32 or more saturates to 16 (8) elements, as Bochs does";

    public const string BochsDotProductNaN =
        "Bochs 2.7 sums the products of DPPS and DPPD (and their VEX forms) for the upper lanes with the operands of the additions in another order, "
        + "so where two NaNs meet the upper lanes hold a different NaN than the lower; the SDM (vol. 2, DPPS, DPPD) computes the one sum "
        + "(Temp2 + Temp3, Temp1[63:0] + Temp1[127:64]) and writes it to every lane imm8 selects";

    /// <summary>
    /// Bochs implements the hardware's RCP/RSQRT approximation tables, leaves out the MMX transition of CVTPI2PS/PD
    /// from memory and DE for a denormal times zero in FMA, and sums the upper lanes of DPPS and DPPD in the other order;
    /// other differences are not expected.
    /// </summary>
    public static string? MatchBochs(SimdCase c, ReadOnlySpan<byte> sim, ReadOnlySpan<byte> bochs)
    {
        if (c.X87) return MatchBochsX87(c, sim, bochs);
        var mnemonics = c.Instructions.Select(i => i.Mnemonic).ToHashSet();
        var reciprocal = mnemonics.Overlaps([Mnemonic.Rcpps, Mnemonic.Rcpss, Mnemonic.Rsqrtps, Mnemonic.Rsqrtss,
            Mnemonic.Vrcpps, Mnemonic.Vrcpss, Mnemonic.Vrsqrtps, Mnemonic.Vrsqrtss]);
        var convertFromMemory = c.Instructions.Any(i => i.Mnemonic is Mnemonic.Cvtpi2ps or Mnemonic.Cvtpi2pd && i.Op1Kind == OpKind.Memory);
        var fma = mnemonics.Any(IsFusedMultiplyAdd);
        var dotProduct = mnemonics.Overlaps([Mnemonic.Dpps, Mnemonic.Dppd, Mnemonic.Vdpps, Mnemonic.Vdppd]);
        string? reason = null;
        foreach (var (name, offset, size) in SimdDifferentialRun.Fields(c.Upper != null, c.X87))
        {
            var (s, b) = SimdDifferentialRun.Values(sim, bochs, name, offset, size);
            if (s == b) continue;
            if (reciprocal && (name.StartsWith("xmm") || name.StartsWith("ymm") || name.StartsWith("mem") || name is "rax" or "rcx" or "rdx" or "rbx" or "r8" or "r9" or "r10")) reason ??= ReciprocalApproximation;
            else if (convertFromMemory && (name is "fsw" or "ftw" || name.StartsWith("st"))) reason = BochsConvertFromMemory;
            else if (fma && name == "mxcsr" && (s ^ b) == 2 && (s & 2) != 0) reason ??= BochsFmaDenormalTimesZero;
            else if (dotProduct && (name.StartsWith("xmm") || name.StartsWith("ymm") || name.StartsWith("mem") || name.StartsWith("st") || name is "rax" or "rcx" or "rdx" or "rbx" or "r8" or "r9" or "r10")) reason = BochsDotProductNaN;
            else return null;
        }
        return reason;
    }

    public static string? Match(SimdCase c, ReadOnlySpan<byte> sim, ReadOnlySpan<byte> qemu)
    {
        if (c.X87) return null;
        string? reason = null;
        var mnemonics = c.Instructions.Select(i => i.Mnemonic).ToHashSet();
        var reciprocal = mnemonics.Overlaps([Mnemonic.Rcpps, Mnemonic.Rcpss, Mnemonic.Rsqrtps, Mnemonic.Rsqrtss,
            Mnemonic.Vrcpps, Mnemonic.Vrcpss, Mnemonic.Vrsqrtps, Mnemonic.Vrsqrtss]);
        var emms = mnemonics.Contains(Mnemonic.Emms);
        var vsibFour = GathersByXmm4(c);
        var halfUnderDaz = (c.Mxcsr & 0x40) != 0 && mnemonics.Contains(Mnemonic.Vcvtph2ps);
        var halfUnderFtz = (c.Mxcsr & 0x8000) != 0 && mnemonics.Contains(Mnemonic.Vcvtps2ph);
        var explicitLengths64 = c.Instructions.Any(i => i.Code is Code.Pcmpestri64_xmm_xmmm128_imm8 or Code.Pcmpestrm64_xmm_xmmm128_imm8
            or Code.VEX_Vpcmpestri64_xmm_xmmm128_imm8 or Code.VEX_Vpcmpestrm64_xmm_xmmm128_imm8);
        var minMax = (c.Mxcsr & 0x40) != 0 && mnemonics.Overlaps([Mnemonic.Minps, Mnemonic.Minss, Mnemonic.Minpd, Mnemonic.Minsd,
            Mnemonic.Maxps, Mnemonic.Maxss, Mnemonic.Maxpd, Mnemonic.Maxsd, Mnemonic.Vminps, Mnemonic.Vminss, Mnemonic.Vminpd, Mnemonic.Vminsd,
            Mnemonic.Vmaxps, Mnemonic.Vmaxss, Mnemonic.Vmaxpd, Mnemonic.Vmaxsd]);
        foreach (var (name, offset, size) in SimdDifferentialRun.Fields(c.Upper != null, c.X87))
        {
            var (s, q) = SimdDifferentialRun.Values(sim, qemu, name, offset, size);
            if (s == q) continue;
            var vector = name.StartsWith("xmm") || name.StartsWith("ymm") || name.StartsWith("mem");
            // A result can travel on to a general register (MOVD, PEXTRW, MOVMSKPS ...).
            var data = vector || name is "rax" or "rcx" or "rdx" or "rbx" or "r8" or "r9" or "r10";
            if (name == "mxcsr" && (s ^ q) == 2 && (s & 2) != 0) reason ??= DenormalFlag;
            else if (emms && ((name == "fsw" && ((s ^ q) & ~0x3800UL) == 0) || name.StartsWith("st"))) reason = EmmsTop;
            else if (vsibFour) reason = VsibIndexFour;
            else if (halfUnderDaz && (data || (name == "mxcsr" && ((s ^ q) & ~2UL) == 0))) reason = HalfToSingleUnderDaz;
            else if (halfUnderFtz && (data || (name == "mxcsr" && ((s ^ q) & ~0x30UL) == 0))) reason = SingleToHalfUnderFtz;
            else if (vector && BothNaNs(s, q)) reason ??= NaNSelection;
            else if (data && reciprocal) reason = ReciprocalApproximation;
            else if (explicitLengths64 && (data || name == "eflags")) reason = ExplicitLengthsWithRexW;
            else if (data && minMax) reason = MinMaxUnderDaz;
            else return null;
        }
        return reason;
    }
}
