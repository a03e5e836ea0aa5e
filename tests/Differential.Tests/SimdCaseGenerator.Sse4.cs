using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// The SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ cases: every legacy encoding of those extensions (CRC32 with its
/// 8- and 16-bit register and memory sources among them), and for the explicit-length string comparisons EAX and EDX
/// (RAX and RDX) often near the element counts so that the saturation and negative lengths show.
/// </summary>
public sealed partial class SimdCaseGenerator
{
    private bool _sse4;

    /// <summary>A generator of cases drawn from the SSSE3 … PCLMULQDQ pools only: <see cref="Generate"/> their legacy forms, <see cref="GenerateAvx"/> their VEX forms.</summary>
    public static SimdCaseGenerator Sse4(int seed, bool long64 = false) => new(seed, long64) { _sse4 = true };

    private static bool IsSse4Extension(CpuidFeature f) =>
        f is CpuidFeature.SSSE3 or CpuidFeature.SSE4_1 or CpuidFeature.SSE4_2 or CpuidFeature.AES or CpuidFeature.PCLMULQDQ;

    // Computed on first use: static initializers of a partial class are not ordered across its files, and these need Excluded.
    private static Code[]? _sse4Pool32, _sse4Pool64, _vexSse4Pool32, _vexSse4Pool64;

    public static Code[] Sse4Pool32 => _sse4Pool32 ??= Enum.GetValues<Code>().Where(c => Eligible(c, false, IsSse4Extension)).ToArray();

    public static Code[] Sse4Pool64 => _sse4Pool64 ??= Enum.GetValues<Code>().Where(c => Eligible(c, true, IsSse4Extension)).ToArray();

    /// <summary>The VEX.128 and VEX.256 encodings whose mnemonic is V and a legacy one of the pool (VPSHUFB, VBLENDVPS /is4, VPCMPESTRI ...).</summary>
    private static Code[] VexPool(Code[] legacy, bool long64)
    {
        var names = legacy.Select(c => c.Mnemonic().ToString()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return Enum.GetValues<Code>().Where(code =>
        {
            var mnemonic = code.Mnemonic().ToString();
            if (code == Code.INVALID || code.Encoding() != EncodingKind.VEX || !mnemonic.StartsWith('V') || !names.Contains(mnemonic[1..])) return false;
            var info = code.ToOpCode();
            // The 256-bit VAES and VPCLMULQDQ are extensions of their own.
            if (!info.IsInstruction || !(long64 ? info.Mode64 : info.Mode32) || code.CpuidFeatures().Any(f => f is CpuidFeature.VAES or CpuidFeature.VPCLMULQDQ)) return false;
            for (var i = 0; i < info.OpCount; i++)
                if (info.GetOpKind(i) is not (OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.xmm_vvvv
                    or OpCodeOperandKind.xmm_is4 or OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_or_mem
                    or OpCodeOperandKind.ymm_vvvv or OpCodeOperandKind.ymm_is4 or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_or_mem
                    or OpCodeOperandKind.mem or OpCodeOperandKind.imm8)
                    && !(long64 && info.GetOpKind(i) is OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm or OpCodeOperandKind.r64_or_mem))
                    return false;
            return true;
        }).ToArray();
    }

    public static Code[] VexSse4Pool32 => _vexSse4Pool32 ??= VexPool(Sse4Pool32, false);

    public static Code[] VexSse4Pool64 => _vexSse4Pool64 ??= VexPool(Sse4Pool64, true);

    /// <summary>CRC32's byte and word sources: operand kinds the MMX/SSE pools never hold.</summary>
    private static bool IsNarrowGprOperand(OpCodeOperandKind kind) => kind is OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem;

    private static readonly Register[] Bytes = [Register.AL, Register.CL, Register.DL, Register.BL, Register.R8L, Register.R9L, Register.R10L];

    private Register NarrowGpr(OpCodeOperandKind kind)
    {
        var r = Bytes[_random.Next(GprCount(long64))];
        return kind == OpCodeOperandKind.r8_or_mem ? r : r.GetFullRegister32() - Register.EAX + Register.AX;
    }

    /// <summary>EAX and EDX (the explicit lengths of PCMPESTRx) a small signed value half of the time, sign-extended to 64 bits.</summary>
    private void AdjustStringLengths(ulong[] registers)
    {
        foreach (var r in new[] { 0, 2 })
        {
            if (_random.Next(2) != 0) continue;
            var value = (long)_random.Next(-20, 21);
            registers[r] = long64 ? (ulong)value : (uint)value;
        }
        // Now and then RAX/RDX beyond 32 bits with small low halves, for the REX.W forms.
        if (long64 && _random.Next(8) == 0) registers[2] = 0x1_0000_0000UL | (uint)_random.Next(0, 20);
    }
}
