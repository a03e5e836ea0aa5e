using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// AVX's own data rearrangement (SDM vol. 1, 14.4; vol. 2): VBROADCASTSS/SD/F128, VINSERTF128, VEXTRACTF128, VPERM2F128
/// and VPERMILPS/VPERMILPD with variable (register) or imm8 control, each in-lane. The broadcasts also take the AVX2
/// register source (the low element of an XMM register) through the same function.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexBroadcastSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create((uint)v).AsByte());
        return p.Next(ref op);
    }

    private static bool VexBroadcastDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create(v).AsByte());
        return p.Next(ref op);
    }

    /// <summary>VBROADCASTF128 (and AVX2's VBROADCASTI128) ymm1, m128: both halves from memory.</summary>
    private static bool VexBroadcast128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var v)) return false;
        p.Ymm(op.R) = Vector256.Create(v, v);
        return p.Next(ref op);
    }

    /// <summary>VINSERTF128 ymm1, ymm2, xmm3/m128, imm8: ymm2 with the half imm8[0] replaced.</summary>
    private static bool VexInsert128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var v)) return false;
        var a = p.Ymm(op.Sub);
        p.Ymm(op.R) = (op.Immediate & 1) == 0 ? a.WithLower(v) : a.WithUpper(v);
        return p.Next(ref op);
    }

    /// <summary>VEXTRACTF128 xmm1/m128, ymm2, imm8: the half imm8[0] of ymm2; a register destination has bits 255:128 zeroed.</summary>
    private static bool VexExtract128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        var a = p.Ymm(op.R);
        var v = (op.Immediate & 1) == 0 ? a.GetLower() : a.GetUpper();
        if ((op.Flags & OpFlags.Memory) == 0) p.SetXmmZeroUpper(op.Rm, v);
        else if (!p.SimdAddress(ref op, 16, 1, AccessWrite, out var linear) || !p.WriteLinear16(linear, v)) return false;
        return p.Next(ref op);
    }

    /// <summary>VPERM2F128 ymm1, ymm2, ymm3/m256, imm8: each half chosen from the four source halves by imm8[1:0] (imm8[5:4]), or zeroed by imm8[3] (imm8[7]).</summary>
    private static bool VexPermute128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.YmmSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var imm = (int)op.Immediate;
        p.Ymm(op.R) = Vector256.Create(SelectHalf(a, b, imm), SelectHalf(a, b, imm >> 4));
        return p.Next(ref op);
    }

    private static Vector128<byte> SelectHalf(Vector256<byte> a, Vector256<byte> b, int control) =>
        (control & 8) != 0 ? Vector128<byte>.Zero
        : (control & 3) switch { 0 => a.GetLower(), 1 => a.GetUpper(), 2 => b.GetLower(), _ => b.GetUpper() };

    /// <summary>VPERMILPS xmm1, xmm2, xmm3/m128: each single of xmm2's lane chosen by bits 1:0 of the matching control dword.</summary>
    private static bool VexPermuteSinglesVariable(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var control)) return false;
        var a = p.Ymm(op.Sub).AsUInt32();
        var c = control.AsUInt32();
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = a.GetElement((i & ~3) + (int)(c.GetElement(i) & 3));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>VPERMILPD xmm1, xmm2, xmm3/m128: each double of xmm2's lane chosen by bit 1 of the matching control quadword.</summary>
    private static bool VexPermuteDoublesVariable(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var control)) return false;
        var a = p.Ymm(op.Sub).AsUInt64();
        var c = control.AsUInt64();
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = a.GetElement((i & ~1) + (int)((c.GetElement(i) >> 1) & 1));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>VPERMILPS xmm1, xmm2/m128, imm8: the same 2-bit selectors of imm8 in each lane.</summary>
    private static bool VexPermuteSinglesImmediate(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = source.AsUInt32();
        var imm = (int)op.Immediate;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = a.GetElement((i & ~3) + ((imm >> (2 * (i & 3))) & 3));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>VPERMILPD xmm1, xmm2/m128, imm8: double i chosen by imm8[i] within its lane.</summary>
    private static bool VexPermuteDoublesImmediate(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = source.AsUInt64();
        var imm = (int)op.Immediate;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = a.GetElement((i & ~1) + ((imm >> i) & 1));
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }
}
