using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// The SSE3 SIMD instructions (SDM vol. 1, 12.3): ADDSUBPS/PD, HADDPS/PD, HSUBPS/PD, MOVSHDUP, MOVSLDUP, MOVDDUP and
/// LDDQU. CPUID does not announce SSE3: its FISTTP belongs to the x87 unit, and SSE3 is complete only with it.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>ADDSUBPS: even lanes subtract, odd lanes add.</summary>
    private static bool AddSubtractPackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            (uint)SimdFloat.Subtract(a.GetElement(0), b.GetElement(0), false, m, ref flags),
            (uint)SimdFloat.Add(a.GetElement(1), b.GetElement(1), false, m, ref flags),
            (uint)SimdFloat.Subtract(a.GetElement(2), b.GetElement(2), false, m, ref flags),
            (uint)SimdFloat.Add(a.GetElement(3), b.GetElement(3), false, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool AddSubtractPackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            SimdFloat.Subtract(a.GetElement(0), b.GetElement(0), true, m, ref flags),
            SimdFloat.Add(a.GetElement(1), b.GetElement(1), true, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>HADDPS/HSUBPS: the adjacent pairs of the destination, then of the source, each lane's lower element the first operand.</summary>
    private static bool HorizontalPackedSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            (uint)T.Apply(a.GetElement(0), a.GetElement(1), false, m, ref flags),
            (uint)T.Apply(a.GetElement(2), a.GetElement(3), false, m, ref flags),
            (uint)T.Apply(b.GetElement(0), b.GetElement(1), false, m, ref flags),
            (uint)T.Apply(b.GetElement(2), b.GetElement(3), false, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool HorizontalPackedDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            T.Apply(a.GetElement(0), a.GetElement(1), true, m, ref flags),
            T.Apply(b.GetElement(0), b.GetElement(1), true, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool MoveHighDuplicate(Processor p, ref DecodedOp op) => p.DuplicateSingles(ref op, 1);

    private static bool MoveLowDuplicate(Processor p, ref DecodedOp op) => p.DuplicateSingles(ref op, 0);

    /// <summary>MOVSHDUP (odd lanes) and MOVSLDUP (even lanes), each copied to its pair.</summary>
    private bool DuplicateSingles(ref DecodedOp op, int odd)
    {
        if (!SseAvailable() || !XmmSource(ref op, 16, out var source)) return false;
        var b = source.AsUInt32();
        Xmm(op.R) = Vector128.Create(b.GetElement(odd), b.GetElement(odd), b.GetElement(2 + odd), b.GetElement(2 + odd)).AsByte();
        return Next(ref op);
    }

    /// <summary>MOVDDUP xmm, xmm/m64: the low quadword in both halves (the memory form reads 8 bytes, unaligned).</summary>
    private static bool MoveDoubleDuplicate(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        p.SetXmmResult(ref op, op.R, Vector128.Create(v, v).AsByte());
        return p.Next(ref op);
    }
}
