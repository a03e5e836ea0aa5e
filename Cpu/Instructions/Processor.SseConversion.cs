using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// SSE and SSE2 conversions (SDM vol. 1, 10.4.5 and 11.4.1.6): between single and double precision, between either and
/// 32- or 64-bit integers in general registers, MMX registers and XMM lanes, rounding per MXCSR.RC or (the CVTT forms)
/// toward zero. An out-of-range or NaN source gives the integer indefinite with IE.
/// </summary>
public sealed unsafe partial class Processor
{
    private static ulong IntegerLanes(ulong source, bool truncate, uint mxcsr, ref uint flags) =>
        SimdFloat.ToInteger((uint)source, false, 32, truncate, mxcsr, ref flags)
        | (SimdFloat.ToInteger(source >> 32, false, 32, truncate, mxcsr, ref flags) << 32);

    /// <summary>CVTPI2PS xmm, mm/m64: the low two lanes. With either source it enters the MMX state (SDM vol. 2, CVTPI2PS).</summary>
    private static bool ConvertPackedInt32ToSingleMmx(Processor p, ref DecodedOp op)
    {
        if (!p.SseWithMmxAvailable() || !p.MmSource(ref op, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        var r = SimdFloat.FromInteger((int)v, false, m, ref flags) | (SimdFloat.FromInteger((int)(v >> 32), false, m, ref flags) << 32);
        if (!p.SimdExceptions(flags)) return false;
        p.EnterMmxState();
        p.XmmQword(op.R, 0) = r;
        return p.Next(ref op);
    }

    /// <summary>CVTPI2PD xmm, mm/m64: exact; it enters the MMX state with either source.</summary>
    private static bool ConvertPackedInt32ToDoubleMmx(Processor p, ref DecodedOp op)
    {
        if (!p.SseWithMmxAvailable() || !p.MmSource(ref op, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        p.EnterMmxState();
        p.Xmm(op.R) = Vector128.Create(SimdFloat.FromInteger((int)v, true, m, ref flags), SimdFloat.FromInteger((int)(v >> 32), true, m, ref flags)).AsByte();
        return p.Next(ref op);
    }

    private static bool ConvertPackedSingleToInt32Mmx(Processor p, ref DecodedOp op) => p.PackedSingleToMmx(ref op, false);

    private static bool TruncatePackedSingleToInt32Mmx(Processor p, ref DecodedOp op) => p.PackedSingleToMmx(ref op, true);

    private bool PackedSingleToMmx(ref DecodedOp op, bool truncate)
    {
        if (!SseWithMmxAvailable() || !XmmScalarSource(ref op, 8, out var v)) return false;
        uint flags = 0;
        var r = IntegerLanes(v, truncate, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        SetMm(op.R, r);
        return Next(ref op);
    }

    private static bool ConvertPackedDoubleToInt32Mmx(Processor p, ref DecodedOp op) => p.PackedDoubleToMmx(ref op, false);

    private static bool TruncatePackedDoubleToInt32Mmx(Processor p, ref DecodedOp op) => p.PackedDoubleToMmx(ref op, true);

    private bool PackedDoubleToMmx(ref DecodedOp op, bool truncate)
    {
        if (!SseWithMmxAvailable() || !XmmSource(ref op, 16, out var v)) return false;
        uint flags = 0;
        var r = PackedDoubleToInt32(v, truncate, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        SetMm(op.R, r);
        return Next(ref op);
    }

    private static ulong PackedDoubleToInt32(Vector128<byte> v, bool truncate, uint mxcsr, ref uint flags)
    {
        var q = v.AsUInt64();
        return SimdFloat.ToInteger(q.GetElement(0), true, 32, truncate, mxcsr, ref flags)
            | (SimdFloat.ToInteger(q.GetElement(1), true, 32, truncate, mxcsr, ref flags) << 32);
    }

    private static bool ConvertInt32ToSingle(Processor p, ref DecodedOp op) => p.IntegerToScalar(ref op, 4, false);

    private static bool ConvertInt64ToSingle(Processor p, ref DecodedOp op) => p.IntegerToScalar(ref op, 8, false);

    private static bool ConvertInt32ToDouble(Processor p, ref DecodedOp op) => p.IntegerToScalar(ref op, 4, true);

    private static bool ConvertInt64ToDouble(Processor p, ref DecodedOp op) => p.IntegerToScalar(ref op, 8, true);

    private bool IntegerToScalar(ref DecodedOp op, int size, bool d)
    {
        if (!SseAvailable() || !GprSource(ref op, size, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.FromInteger(size == 4 ? (int)v : (long)v, d, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        if (d) XmmQword(op.R, 0) = r;
        else XmmDword(op.R, 0) = (uint)r;
        return Next(ref op);
    }

    private static bool ConvertSingleToInt32(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, false, 4, false);
    private static bool ConvertSingleToInt64(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, false, 8, false);
    private static bool TruncateSingleToInt32(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, false, 4, true);
    private static bool TruncateSingleToInt64(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, false, 8, true);
    private static bool ConvertDoubleToInt32(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, true, 4, false);
    private static bool ConvertDoubleToInt64(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, true, 8, false);
    private static bool TruncateDoubleToInt32(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, true, 4, true);
    private static bool TruncateDoubleToInt64(Processor p, ref DecodedOp op) => p.ScalarToInteger(ref op, true, 8, true);

    private bool ScalarToInteger(ref DecodedOp op, bool d, int size, bool truncate)
    {
        if (!SseOrAvxAvailable(ref op) || !XmmScalarSource(ref op, d ? 8 : 4, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.ToInteger(v, d, size * 8, truncate, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        SetReg(op.R, size, r);
        return Next(ref op);
    }

    /// <summary>CVTPS2PD xmm, xmm/m64.</summary>
    private static bool ConvertPackedSingleToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(SimdFloat.Convert((uint)v, false, m, ref flags), SimdFloat.Convert(v >> 32, false, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>CVTPD2PS xmm, xmm/m128: the high quadword is zeroed.</summary>
    private static bool ConvertPackedDoubleToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        var q = v.AsUInt64();
        var r = SimdFloat.Convert(q.GetElement(0), true, m, ref flags) | (SimdFloat.Convert(q.GetElement(1), true, m, ref flags) << 32);
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = Vector128.CreateScalar(r).AsByte();
        return p.Next(ref op);
    }

    private static bool ConvertScalarSingleToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 4, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.Convert(v, false, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmQword(op.R, 0) = r;
        return p.Next(ref op);
    }

    private static bool ConvertScalarDoubleToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        uint flags = 0;
        var r = SimdFloat.Convert(v, true, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmDword(op.R, 0) = (uint)r;
        return p.Next(ref op);
    }

    private static bool ConvertPackedInt32ToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        var s = v.AsInt32();
        var r = Vector128.Create(
            (uint)SimdFloat.FromInteger(s.GetElement(0), false, m, ref flags), (uint)SimdFloat.FromInteger(s.GetElement(1), false, m, ref flags),
            (uint)SimdFloat.FromInteger(s.GetElement(2), false, m, ref flags), (uint)SimdFloat.FromInteger(s.GetElement(3), false, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool ConvertPackedSingleToInt32(Processor p, ref DecodedOp op) => p.PackedSingleToInt32(ref op, false);

    private static bool TruncatePackedSingleToInt32(Processor p, ref DecodedOp op) => p.PackedSingleToInt32(ref op, true);

    private bool PackedSingleToInt32(ref DecodedOp op, bool truncate)
    {
        if (!SseAvailable() || !XmmSource(ref op, 16, out var v)) return false;
        uint flags = 0;
        var q = v.AsUInt64();
        var r = Vector128.Create(IntegerLanes(q.GetElement(0), truncate, _mxcsr, ref flags), IntegerLanes(q.GetElement(1), truncate, _mxcsr, ref flags));
        if (!SimdExceptions(flags)) return false;
        Xmm(op.R) = r.AsByte();
        return Next(ref op);
    }

    /// <summary>CVTDQ2PD xmm, xmm/m64: exact.</summary>
    private static bool ConvertPackedInt32ToDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        uint flags = 0;
        var m = p._mxcsr;
        p.Xmm(op.R) = Vector128.Create(SimdFloat.FromInteger((int)v, true, m, ref flags), SimdFloat.FromInteger((int)(v >> 32), true, m, ref flags)).AsByte();
        return p.Next(ref op);
    }

    private static bool ConvertPackedDoubleToInt32(Processor p, ref DecodedOp op) => p.PackedDoubleToInt32(ref op, false);

    private static bool TruncatePackedDoubleToInt32(Processor p, ref DecodedOp op) => p.PackedDoubleToInt32(ref op, true);

    private bool PackedDoubleToInt32(ref DecodedOp op, bool truncate)
    {
        if (!SseAvailable() || !XmmSource(ref op, 16, out var v)) return false;
        uint flags = 0;
        var r = PackedDoubleToInt32(v, truncate, _mxcsr, ref flags);
        if (!SimdExceptions(flags)) return false;
        Xmm(op.R) = Vector128.CreateScalar(r).AsByte();
        return Next(ref op);
    }
}
