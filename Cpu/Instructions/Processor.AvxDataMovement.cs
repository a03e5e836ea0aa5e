using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The VEX forms of the SSE/SSE2/SSE3 data movement (SDM vol. 2, VMOVAPS ... VMOVDDUP): whole-register moves of 16 or
/// 32 bytes (VMOVAPS/PD, VMOVDQA and VMOVNT* checking alignment to the vector length, the others not), the 3-operand
/// VMOVSS/VMOVSD and VMOVLPS/VMOVHPS merges, VMOVD/VMOVQ, the mask extractions and VMASKMOVDQU. A VEX.128 register
/// destination has bits 255:128 zeroed.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexMoveAlignedLoad(Processor p, ref DecodedOp op) => p.VexMoveLoad(ref op, op.Size);

    private static bool VexMoveUnalignedLoad(Processor p, ref DecodedOp op) => p.VexMoveLoad(ref op, 1);

    private static bool VexMoveAlignedStore(Processor p, ref DecodedOp op) => p.VexMoveStore(ref op, op.Size);

    private static bool VexMoveUnalignedStore(Processor p, ref DecodedOp op) => p.VexMoveStore(ref op, 1);

    private bool VexMoveLoad(ref DecodedOp op, int alignment)
    {
        if (!AvxAvailable() || !VectorSource(ref op, alignment, out var v)) return false;
        Ymm(op.R) = v;
        return Next(ref op);
    }

    private bool VexMoveStore(ref DecodedOp op, int alignment)
    {
        if (!AvxAvailable() || !VectorStore(ref op, alignment, Ymm(op.R))) return false;
        return Next(ref op);
    }

    /// <summary>VMOVSS/VMOVSD xmm1, xmm2, xmm3 (0F 10): ModRM.reg gets the low element of r/m, the rest of bits 127:0 from vvvv.</summary>
    private static bool VexMoveScalarSingleMerge(Processor p, ref DecodedOp op) => p.VexMoveScalarMerge(ref op, 4, op.R, op.Rm);

    private static bool VexMoveScalarDoubleMerge(Processor p, ref DecodedOp op) => p.VexMoveScalarMerge(ref op, 8, op.R, op.Rm);

    /// <summary>The store opcode's register form (0F 11): r/m gets the low element of ModRM.reg.</summary>
    private static bool VexMoveScalarSingleMergeStore(Processor p, ref DecodedOp op) => p.VexMoveScalarMerge(ref op, 4, op.Rm, op.R);

    private static bool VexMoveScalarDoubleMergeStore(Processor p, ref DecodedOp op) => p.VexMoveScalarMerge(ref op, 8, op.Rm, op.R);

    private bool VexMoveScalarMerge(ref DecodedOp op, int size, int destination, int source)
    {
        if (!AvxAvailable()) return false;
        var a = Xmm(op.Sub);
        var from = Xmm(source);
        var r = size == 4 ? a.AsUInt32().WithElement(0, from.AsUInt32().ToScalar()).AsByte() : a.AsUInt64().WithElement(0, from.AsUInt64().ToScalar()).AsByte();
        SetXmmZeroUpper(destination, r);
        return Next(ref op);
    }

    /// <summary>VMOVLPS/VMOVLPD xmm1, xmm2, m64: the low quadword from memory, the high one from vvvv.</summary>
    private static bool VexMoveLowLoad(Processor p, ref DecodedOp op) => p.VexMoveHalfLoad(ref op, 0);

    /// <summary>VMOVHPS/VMOVHPD xmm1, xmm2, m64: the low quadword from vvvv, the high one from memory.</summary>
    private static bool VexMoveHighLoad(Processor p, ref DecodedOp op) => p.VexMoveHalfLoad(ref op, 1);

    private bool VexMoveHalfLoad(ref DecodedOp op, int lane)
    {
        if (!AvxAvailable() || !ReadMem(op.Segment, EffectiveAddress(ref op), 8, out var v)) return false;
        SetXmmZeroUpper(op.R, Xmm(op.Sub).AsUInt64().WithElement(lane, v).AsByte());
        return Next(ref op);
    }

    /// <summary>VMOVHLPS xmm1, xmm2, xmm3: the high quadword of xmm3, then the high quadword of xmm2.</summary>
    private static bool VexMoveHighToLow(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        p.SetXmmZeroUpper(op.R, Vector128.Create(p.XmmQword(op.Rm, 1), p.XmmQword(op.Sub, 1)).AsByte());
        return p.Next(ref op);
    }

    /// <summary>VMOVLHPS xmm1, xmm2, xmm3: the low quadword of xmm2, then the low quadword of xmm3.</summary>
    private static bool VexMoveLowToHigh(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        p.SetXmmZeroUpper(op.R, Vector128.Create(p.XmmQword(op.Sub, 0), p.XmmQword(op.Rm, 0)).AsByte());
        return p.Next(ref op);
    }

    /// <summary>VMOVMSKPS/VMOVMSKPD r, ymm: the sign bits of all eight singles or four doubles.</summary>
    private static bool VexMoveMaskSingle256(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        p.SetReg(op.R, 8, Vector256.ExtractMostSignificantBits(p.Ymm(op.Rm).AsUInt32()));
        return p.Next(ref op);
    }

    private static bool VexMoveMaskDouble256(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        p.SetReg(op.R, 8, Vector256.ExtractMostSignificantBits(p.Ymm(op.Rm).AsUInt64()));
        return p.Next(ref op);
    }

    /// <summary>VPMOVMSKB r, ymm (AVX2): the 32 byte sign bits.</summary>
    private static bool VexMoveMaskBytes256(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        p.SetReg(op.R, 8, Vector256.ExtractMostSignificantBits(p.Ymm(op.Rm)));
        return p.Next(ref op);
    }

    /// <summary>VMOVSHDUP/VMOVSLDUP: the odd (or even) singles duplicated, in each 128-bit lane.</summary>
    private static bool VexMoveHighDuplicate(Processor p, ref DecodedOp op) => p.VexDuplicateSingles(ref op, 1);

    private static bool VexMoveLowDuplicate(Processor p, ref DecodedOp op) => p.VexDuplicateSingles(ref op, 0);

    private bool VexDuplicateSingles(ref DecodedOp op, int odd)
    {
        if (!AvxAvailable() || !VectorSource(ref op, 1, out var source)) return false;
        var b = source.AsUInt32();
        var r = Vector256.Create(b.GetElement(odd), b.GetElement(odd), b.GetElement(2 + odd), b.GetElement(2 + odd),
            b.GetElement(4 + odd), b.GetElement(4 + odd), b.GetElement(6 + odd), b.GetElement(6 + odd));
        SetVector(op.R, op.Size, r.AsByte());
        return Next(ref op);
    }

    /// <summary>VMOVDDUP ymm1, ymm2/m256: the even quadword of each lane duplicated.</summary>
    private static bool VexMoveDoubleDuplicate256(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.YmmSource(ref op, 1, out var source)) return false;
        var q = source.AsUInt64();
        p.Ymm(op.R) = Vector256.Create(q.GetElement(0), q.GetElement(0), q.GetElement(2), q.GetElement(2)).AsByte();
        return p.Next(ref op);
    }

    /// <summary>VPINSRW xmm1, xmm2, r32/m16, imm8: xmm2 with word imm8[2:0] replaced.</summary>
    private static bool VexInsertWord(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.GprSource(ref op, 2, out var w)) return false;
        p.SetXmmZeroUpper(op.R, p.Xmm(op.Sub).AsUInt16().WithElement((int)(op.Immediate & 7), (ushort)w).AsByte());
        return p.Next(ref op);
    }
}
