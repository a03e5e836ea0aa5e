using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// The VEX forms of the SSE and SSE2 floating-point arithmetic (SDM vol. 1, 14.3; vol. 2, VADDPS ...): the legacy
/// form's <see cref="IFloatOperation"/> per lane on (vvvv, r/m) into ModRM.reg, 4 or 8 singles, 2 or 4 doubles. The
/// scalar forms take bits 127:32 (or 127:64) of the destination from vvvv and zero bits 255:128. As for the legacy
/// forms, an unmasked exception in any lane leaves the destination unwritten.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>The first source of a VEX form: YMM(vvvv), or zero for the two-operand forms (VSQRTPS ...), whose operation ignores it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<byte> VexFirstSource(ref DecodedOp op) => op.Sub < VectorRegisterCount ? Ymm(op.Sub) : default;

    private static bool VexPackedSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.VexFirstSource(ref op).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = (uint)T.Apply(a.GetElement(i), b.GetElement(i), false, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexPackedDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.VexFirstSource(ref op).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = T.Apply(a.GetElement(i), b.GetElement(i), true, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexScalarSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var b)) return false;
        var a = p.Xmm(op.Sub).AsUInt32();
        uint flags = 0;
        var r = (uint)T.Apply(a.ToScalar(), b, false, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    private static bool VexScalarDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var b)) return false;
        var a = p.Xmm(op.Sub).AsUInt64();
        uint flags = 0;
        var r = T.Apply(a.ToScalar(), b, true, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    /// <summary>VADDSUBPS: even lanes subtract, odd lanes add, over 4 or 8 singles.</summary>
    private static bool VexAddSubtractPackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++)
            Unsafe.Add(ref lane, i) = (uint)((i & 1) == 0 ? SimdFloat.Subtract(a.GetElement(i), b.GetElement(i), false, m, ref flags) : SimdFloat.Add(a.GetElement(i), b.GetElement(i), false, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexAddSubtractPackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++)
            Unsafe.Add(ref lane, i) = (i & 1) == 0 ? SimdFloat.Subtract(a.GetElement(i), b.GetElement(i), true, m, ref flags) : SimdFloat.Add(a.GetElement(i), b.GetElement(i), true, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>VHADDPS/VHSUBPS: per 128-bit lane, the adjacent pairs of vvvv, then of r/m.</summary>
    private static bool VexHorizontalPackedSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var half = 0; half < op.Size / 16; half++)
        {
            var k = half * 4;
            Unsafe.Add(ref lane, k) = (uint)T.Apply(a.GetElement(k), a.GetElement(k + 1), false, m, ref flags);
            Unsafe.Add(ref lane, k + 1) = (uint)T.Apply(a.GetElement(k + 2), a.GetElement(k + 3), false, m, ref flags);
            Unsafe.Add(ref lane, k + 2) = (uint)T.Apply(b.GetElement(k), b.GetElement(k + 1), false, m, ref flags);
            Unsafe.Add(ref lane, k + 3) = (uint)T.Apply(b.GetElement(k + 2), b.GetElement(k + 3), false, m, ref flags);
        }
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexHorizontalPackedDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var half = 0; half < op.Size / 16; half++)
        {
            var k = half * 2;
            Unsafe.Add(ref lane, k) = T.Apply(a.GetElement(k), a.GetElement(k + 1), true, m, ref flags);
            Unsafe.Add(ref lane, k + 1) = T.Apply(b.GetElement(k), b.GetElement(k + 1), true, m, ref flags);
        }
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }
}
