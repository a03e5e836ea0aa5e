using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// The VEX comparisons (SDM vol. 2, VCMPPS/VCMPPD/VCMPSS/VCMPSD, table 3-1): the 32 predicates of imm8[4:0], ordered or
/// unordered, signalling or quiet; and VTESTPS/VTESTPD, which set ZF and CF from the sign bits of
/// (source AND destination) and (source AND NOT destination) and clear AF, OF, PF and SF.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexComparePackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt32();
        var b = source.AsUInt32();
        var predicate = (int)(op.Immediate & 31);
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++) Unsafe.Add(ref lane, i) = (uint)CompareLane(a.GetElement(i), b.GetElement(i), false, predicate, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexComparePackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.Sub).AsUInt64();
        var b = source.AsUInt64();
        var predicate = (int)(op.Immediate & 31);
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++) Unsafe.Add(ref lane, i) = CompareLane(a.GetElement(i), b.GetElement(i), true, predicate, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexCompareScalarSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var b)) return false;
        var a = p.Xmm(op.Sub).AsUInt32();
        uint flags = 0;
        var r = (uint)CompareLane(a.ToScalar(), b, false, (int)(op.Immediate & 31), p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    private static bool VexCompareScalarDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var b)) return false;
        var a = p.Xmm(op.Sub).AsUInt64();
        uint flags = 0;
        var r = CompareLane(a.ToScalar(), b, true, (int)(op.Immediate & 31), p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    private static bool VexTestSingle(Processor p, ref DecodedOp op) => p.VexTestSigns(ref op, 0x8000_0000_8000_0000);

    private static bool VexTestDouble(Processor p, ref DecodedOp op) => p.VexTestSigns(ref op, 0x8000_0000_0000_0000);

    private bool VexTestSigns(ref DecodedOp op, ulong signs)
    {
        if (!AvxAvailable() || !VectorSource(ref op, 1, out var source)) return false;
        var d = Ymm(op.R);
        if (op.Size == 16) d = Vector256.Create(d.GetLower(), Vector128<byte>.Zero);
        var mask = Vector256.Create(signs).AsByte();
        var zf = ((source & d & mask) == Vector256<byte>.Zero) ? Rflags.ZF : 0;
        var cf = ((source & ~d & mask) == Vector256<byte>.Zero) ? Rflags.CF : 0;
        SetStatusFlags(Rflags.Status, zf | cf);
        return Next(ref op);
    }
}
