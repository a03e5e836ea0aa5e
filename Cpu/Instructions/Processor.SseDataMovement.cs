using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// SSE and SSE2 data movement (SDM vol. 1, 10.4.1 and 11.4.1): MOVAPS/MOVUPS and the PD and DQ forms, the scalar
/// MOVSS/MOVSD, the half moves MOVLPS/MOVHPS/MOVLHPS/MOVHLPS (and PD), MOVMSKPS/PD, MOVD/MOVQ between XMM, MMX,
/// general registers and memory, MOVQ2DQ and MOVDQ2Q.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool MoveXmmAlignedLoad(Processor p, ref DecodedOp op) => p.MoveXmmLoad(ref op, 16);

    private static bool MoveXmmUnalignedLoad(Processor p, ref DecodedOp op) => p.MoveXmmLoad(ref op, 1);

    private static bool MoveXmmAlignedStore(Processor p, ref DecodedOp op) => p.MoveXmmStore(ref op, 16);

    private static bool MoveXmmUnalignedStore(Processor p, ref DecodedOp op) => p.MoveXmmStore(ref op, 1);

    private bool MoveXmmLoad(ref DecodedOp op, int alignment)
    {
        if (!SseAvailable() || !XmmSource(ref op, alignment, out var v)) return false;
        Xmm(op.R) = v;
        return Next(ref op);
    }

    private bool MoveXmmStore(ref DecodedOp op, int alignment)
    {
        if (!SseAvailable() || !XmmStore(ref op, alignment, Xmm(op.R))) return false;
        return Next(ref op);
    }

    /// <summary>MOVSS/MOVSD xmm, xmm/m: between registers the low lane alone moves; from memory the rest is zeroed.</summary>
    private static bool MoveScalarSingleLoad(Processor p, ref DecodedOp op) => p.MoveScalarLoad(ref op, 4);

    private static bool MoveScalarDoubleLoad(Processor p, ref DecodedOp op) => p.MoveScalarLoad(ref op, 8);

    private bool MoveScalarLoad(ref DecodedOp op, int size)
    {
        if (!SseOrAvxAvailable(ref op) || !XmmScalarSource(ref op, size, out var v)) return false;
        if ((op.Flags & OpFlags.Memory) != 0) SetXmmResult(ref op, op.R, Vector128<byte>.Zero);
        if (size == 4) XmmDword(op.R, 0) = (uint)v;
        else XmmQword(op.R, 0) = v;
        return Next(ref op);
    }

    private static bool MoveScalarSingleStore(Processor p, ref DecodedOp op) => p.MoveScalarStore(ref op, 4);

    private static bool MoveScalarDoubleStore(Processor p, ref DecodedOp op) => p.MoveScalarStore(ref op, 8);

    private bool MoveScalarStore(ref DecodedOp op, int size)
    {
        if (!SseOrAvxAvailable(ref op)) return false;
        var v = size == 4 ? XmmDword(op.R, 0) : XmmQword(op.R, 0);
        if ((op.Flags & OpFlags.Memory) != 0)
        {
            if (!WriteMem(op.Segment, EffectiveAddress(ref op), size, v)) return false;
        }
        else if (size == 4) XmmDword(op.Rm, 0) = (uint)v;
        else XmmQword(op.Rm, 0) = v;
        return Next(ref op);
    }

    /// <summary>MOVLPS/MOVLPD xmm, m64 (lane 0) and MOVHPS/MOVHPD xmm, m64 (lane 1); MOVHLPS and MOVLHPS are their register forms.</summary>
    private static bool MoveLowLoad(Processor p, ref DecodedOp op) => p.MoveHalfLoad(ref op, 0);

    private static bool MoveHighLoad(Processor p, ref DecodedOp op) => p.MoveHalfLoad(ref op, 1);

    private bool MoveHalfLoad(ref DecodedOp op, int lane)
    {
        if (!SseAvailable() || !ReadMem(op.Segment, EffectiveAddress(ref op), 8, out var v)) return false;
        XmmQword(op.R, lane) = v;
        return Next(ref op);
    }

    private static bool MoveLowStore(Processor p, ref DecodedOp op) => p.MoveHalfStore(ref op, 0);

    private static bool MoveHighStore(Processor p, ref DecodedOp op) => p.MoveHalfStore(ref op, 1);

    private bool MoveHalfStore(ref DecodedOp op, int lane)
    {
        if (!SseOrAvxAvailable(ref op) || !WriteMem(op.Segment, EffectiveAddress(ref op), 8, XmmQword(op.R, lane))) return false;
        return Next(ref op);
    }

    private static bool MoveHighToLow(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable()) return false;
        p.XmmQword(op.R, 0) = p.XmmQword(op.Rm, 1);
        return p.Next(ref op);
    }

    private static bool MoveLowToHigh(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable()) return false;
        p.XmmQword(op.R, 1) = p.XmmQword(op.Rm, 0);
        return p.Next(ref op);
    }

    private static bool MoveMaskSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        p.SetReg(op.R, 8, Vector128.ExtractMostSignificantBits(p.Xmm(op.Rm).AsUInt32()));
        return p.Next(ref op);
    }

    private static bool MoveMaskDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        p.SetReg(op.R, 8, Vector128.ExtractMostSignificantBits(p.Xmm(op.Rm).AsUInt64()));
        return p.Next(ref op);
    }

    /// <summary>MOVD/MOVQ xmm, r/m32 or r/m64: zero-extended to 128 bits.</summary>
    private static bool MoveDwordToXmm(Processor p, ref DecodedOp op) => p.MoveGprToXmm(ref op, 4);

    private static bool MoveQwordToXmm(Processor p, ref DecodedOp op) => p.MoveGprToXmm(ref op, 8);

    private bool MoveGprToXmm(ref DecodedOp op, int size)
    {
        if (!SseOrAvxAvailable(ref op) || !GprSource(ref op, size, out var v)) return false;
        SetXmmResult(ref op, op.R, Vector128.CreateScalar(v).AsByte());
        return Next(ref op);
    }

    private static bool MoveDwordFromXmm(Processor p, ref DecodedOp op) => p.MoveXmmToGpr(ref op, 4);

    private static bool MoveQwordFromXmm(Processor p, ref DecodedOp op) => p.MoveXmmToGpr(ref op, 8);

    private bool MoveXmmToGpr(ref DecodedOp op, int size)
    {
        if (!SseOrAvxAvailable(ref op) || !GprStore(ref op, size, XmmQword(op.R, 0))) return false;
        return Next(ref op);
    }

    /// <summary>The general-register or memory destination of MOVD, MOVQ, PEXTRW ...: a 32-bit register is zero-extended.</summary>
    private bool GprStore(ref DecodedOp op, int size, ulong value)
    {
        if ((op.Flags & OpFlags.Memory) != 0) return WriteMem(op.Segment, EffectiveAddress(ref op), size, value);
        SetReg(op.Rm, size, size == 4 ? (uint)value : value);
        return true;
    }

    /// <summary>MOVQ xmm, xmm/m64 (F3 0F 7E): the low quadword, the high one zeroed.</summary>
    private static bool MoveQuadwordLoad(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        p.SetXmmResult(ref op, op.R, Vector128.CreateScalar(v).AsByte());
        return p.Next(ref op);
    }

    /// <summary>MOVQ xmm/m64, xmm (66 0F D6): a register destination has its high quadword zeroed.</summary>
    private static bool MoveQuadwordStore(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        var v = p.XmmQword(op.R, 0);
        if ((op.Flags & OpFlags.Memory) != 0)
        {
            if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), 8, v)) return false;
        }
        else p.SetXmmResult(ref op, op.Rm, Vector128.CreateScalar(v).AsByte());
        return p.Next(ref op);
    }

    private static bool MoveMmxToXmm(Processor p, ref DecodedOp op)
    {
        if (!p.SseWithMmxAvailable()) return false;
        p.EnterMmxState();
        p.Xmm(op.R) = Vector128.CreateScalar(p.Mm(op.Rm)).AsByte();
        return p.Next(ref op);
    }

    private static bool MoveXmmToMmx(Processor p, ref DecodedOp op)
    {
        if (!p.SseWithMmxAvailable()) return false;
        p.SetMm(op.R, p.XmmQword(op.Rm, 0));
        return p.Next(ref op);
    }
}
