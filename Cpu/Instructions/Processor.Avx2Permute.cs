using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 permutes and blends that cross or select 128-bit lanes (SDM vol. 2, VPERMD, VPERMPS, VPERMQ, VPERMPD,
/// VPERM2I128, VINSERTI128, VEXTRACTI128, VPBLENDD): moves of whole elements, so the integer and floating-point forms
/// share one handler each.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>VPERMD/VPERMPS ymm1, ymm2, ymm3/m256: dword i of the result is dword ymm2[i][2:0] of ymm3/m256.</summary>
    private static bool VexPermuteDwords(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var table = source.AsUInt32();
        var indices = p.Ymm(op.Sub).AsUInt32();
        var r = Vector256<uint>.Zero;
        for (var i = 0; i < 8; i++) r = r.WithElement(i, table.GetElement((int)(indices.GetElement(i) & 7)));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>VPERMQ/VPERMPD ymm1, ymm2/m256, imm8: qword i of the result is qword imm8[2i+1:2i] of the source.</summary>
    private static bool VexPermuteQwordsImmediate(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var q = source.AsUInt64();
        var imm = (int)op.Immediate;
        p.Ymm(op.R) = Vector256.Create(q.GetElement(imm & 3), q.GetElement((imm >> 2) & 3), q.GetElement((imm >> 4) & 3), q.GetElement((imm >> 6) & 3)).AsByte();
        return p.Next(ref op);
    }

    /// <summary>
    /// VPERM2I128 (and VPERM2F128) ymm1, ymm2, ymm3/m256, imm8: each half of the result is the half of (ymm2, ymm3/m256)
    /// that imm8[1:0] (low) or imm8[5:4] (high) selects, or zero when imm8[3] (low) or imm8[7] (high) is set.
    /// </summary>
    private static bool VexPermute128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var imm = (int)op.Immediate;
        p.Ymm(op.R) = Vector256.Create(SelectHalf(a, b, imm), SelectHalf(a, b, imm >> 4));
        return p.Next(ref op);
    }

    private static Vector128<byte> SelectHalf(Vector256<byte> a, Vector256<byte> b, int control)
    {
        if ((control & 8) != 0) return Vector128<byte>.Zero;
        return (control & 3) switch
        {
            0 => a.GetLower(),
            1 => a.GetUpper(),
            2 => b.GetLower(),
            _ => b.GetUpper(),
        };
    }

    /// <summary>VINSERTI128 ymm1, ymm2, xmm3/m128, imm8: ymm2 with the half imm8[0] replaced by xmm3/m128.</summary>
    private static bool VexInsert128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var v)) return false;
        var a = p.Ymm(op.Sub);
        p.Ymm(op.R) = (op.Immediate & 1) == 0 ? Vector256.Create(v, a.GetUpper()) : Vector256.Create(a.GetLower(), v);
        return p.Next(ref op);
    }

    /// <summary>VEXTRACTI128 xmm1/m128, ymm2, imm8: the half imm8[0] of ymm2; a register destination has bits 255:128 zeroed.</summary>
    private static bool VexExtract128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        var a = p.Ymm(op.R);
        var half = (op.Immediate & 1) == 0 ? a.GetLower() : a.GetUpper();
        if ((op.Flags & OpFlags.Memory) == 0) p.SetXmmZeroUpper(op.Rm, half);
        else if (!p.SimdAddress(ref op, 16, 1, AccessWrite, out var linear) || !p.WriteLinear16(linear, half)) return false;
        return p.Next(ref op);
    }

    /// <summary>VPBLENDD xmm1/ymm1, xmm2/ymm2, xmm3/m128/ymm3/m256, imm8: dword i from the r/m source where imm8[i] is set, else from vvvv.</summary>
    private static bool VexBlendDwords(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt32();
        var b = source.AsUInt32();
        var r = Vector256<uint>.Zero;
        for (var i = 0; i < op.Size / 4; i++) r = r.WithElement(i, ((op.Immediate >> i) & 1) != 0 ? b.GetElement(i) : a.GetElement(i));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }
}
