using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// The VEX conversions (SDM vol. 2, VCVTDQ2PS ... VCVTTSD2SI): the scalar forms take bits 127:32 (or 127:64) of the
/// destination from vvvv; VCVTPS2PD and VCVTDQ2PD ymm read 128 bits (xmm: 64), VCVTPD2PS, VCVTPD2DQ and VCVTTPD2DQ read
/// 128 or 256 bits into an XMM register; every XMM destination has bits 255:128 zeroed. The conversions to general
/// registers are the legacy functions (<see cref="SseOrAvxAvailable"/>).
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexConvertInt32ToSingle(Processor p, ref DecodedOp op) => p.VexIntegerToScalar(ref op, 4, false);

    private static bool VexConvertInt64ToSingle(Processor p, ref DecodedOp op) => p.VexIntegerToScalar(ref op, 8, false);

    private static bool VexConvertInt32ToDouble(Processor p, ref DecodedOp op) => p.VexIntegerToScalar(ref op, 4, true);

    private static bool VexConvertInt64ToDouble(Processor p, ref DecodedOp op) => p.VexIntegerToScalar(ref op, 8, true);

    private bool VexIntegerToScalar(ref DecodedOp op, int size, bool d)
    {
        if (!AvxAvailable() || !GprSource(ref op, size, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.FromInteger(size == 4 ? (int)v : (long)v, d, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        var a = Xmm(op.Sub);
        SetXmmZeroUpper(op.R, d ? a.AsUInt64().WithElement(0, r).AsByte() : a.AsUInt32().WithElement(0, (uint)r).AsByte());
        return Next(ref op);
    }

    private static bool VexConvertScalarSingleToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.Convert(v, false, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, p.Xmm(op.Sub).AsUInt64().WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    private static bool VexConvertScalarDoubleToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.Convert(v, true, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, p.Xmm(op.Sub).AsUInt32().WithElement(0, (uint)r).AsByte());
        return p.Next(ref op);
    }

    /// <summary>The half-width source of VCVTPS2PD/VCVTDQ2PD: xmm/m128 for the 256-bit form, the low quadword of xmm/m64 for the 128-bit one.</summary>
    private bool HalfWidthSource(ref DecodedOp op, out Vector128<byte> value)
    {
        if (op.Size == 32) return XmmSource(ref op, 1, out value);
        var ok = XmmScalarSource(ref op, 8, out var q);
        value = Vector128.CreateScalar(q).AsByte();
        return ok;
    }

    private static bool VexConvertPackedSingleToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.HalfWidthSource(ref op, out var v)) return false;
        var s = v.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = SimdFloat.Convert(s.GetElement(i), false, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexConvertPackedInt32ToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.HalfWidthSource(ref op, out var v)) return false;
        var s = v.AsInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = SimdFloat.FromInteger(s.GetElement(i), true, m, ref flags);
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexConvertPackedDoubleToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var v)) return false;
        var q = v.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector128<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = (uint)SimdFloat.Convert(q.GetElement(i), true, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, r.AsByte());
        return p.Next(ref op);
    }

    private static bool VexConvertPackedDoubleToInt32(Processor p, ref DecodedOp op) => p.VexPackedDoubleToInt32(ref op, false);

    private static bool VexTruncatePackedDoubleToInt32(Processor p, ref DecodedOp op) => p.VexPackedDoubleToInt32(ref op, true);

    private bool VexPackedDoubleToInt32(ref DecodedOp op, bool truncate)
    {
        if (!AvxAvailable() || !VectorSource(ref op, 1, out var v)) return false;
        var q = v.AsUInt64();
        uint flags = 0;
        var m = _mxcsr;
        var r = Vector128<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector128<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = (uint)SimdFloat.ToInteger(q.GetElement(i), true, 32, truncate, m, ref flags);
        if (!SimdExceptions(flags)) return false;
        SetXmmZeroUpper(op.R, r.AsByte());
        return Next(ref op);
    }

    private static bool VexConvertPackedInt32ToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var v)) return false;
        var s = v.AsInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = (uint)SimdFloat.FromInteger(s.GetElement(i), false, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexConvertPackedSingleToInt32(Processor p, ref DecodedOp op) => p.VexPackedSingleToInt32(ref op, false);

    private static bool VexTruncatePackedSingleToInt32(Processor p, ref DecodedOp op) => p.VexPackedSingleToInt32(ref op, true);

    private bool VexPackedSingleToInt32(ref DecodedOp op, bool truncate)
    {
        if (!AvxAvailable() || !VectorSource(ref op, 1, out var v)) return false;
        var s = v.AsUInt32();
        uint flags = 0;
        var m = _mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = (uint)SimdFloat.ToInteger(s.GetElement(i), false, 32, truncate, m, ref flags);
        if (!SimdExceptions(flags)) return false;
        Ymm(op.R) = r.AsByte();
        return Next(ref op);
    }
}
