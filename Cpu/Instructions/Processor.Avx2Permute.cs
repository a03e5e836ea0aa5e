using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 permutes and blends (SDM vol. 2, VPERMD, VPERMPS, VPERMQ, VPERMPD, VPBLENDD): moves of whole elements, so
/// the integer and floating-point forms share one handler each. VPERM2I128, VINSERTI128 and VEXTRACTI128 are AVX's
/// VPERM2F128, VINSERTF128 and VEXTRACTF128 handlers.
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
