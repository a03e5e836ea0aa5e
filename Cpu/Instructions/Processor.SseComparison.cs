using System.Runtime.Intrinsics;
using Sim.Cpu.Registers;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// SSE and SSE2 comparisons (SDM vol. 1, 10.4.2.3 and 11.4.1.3): CMPPS/CMPSS/CMPPD/CMPSD with the predicate in
/// imm8[2:0], giving all-ones or all-zero lanes, and COMISS/UCOMISS/COMISD/UCOMISD, which set ZF, PF and CF and clear OF,
/// SF and AF. LT, LE, NLT, NLE and the COMI forms signal IE on a QNaN too; the others only on an SNaN.
/// </summary>
public sealed unsafe partial class Processor
{
    private static ulong CompareLane(ulong a, ulong b, bool d, int predicate, uint mxcsr, ref uint flags)
    {
        var outcome = SimdFloat.Compare(a, b, d, mxcsr, SimdFloat.SignalsOnQuietNaN(predicate), ref flags);
        return SimdFloat.Predicate(predicate, outcome) ? ulong.MaxValue : 0;
    }

    private static bool ComparePackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        var b = source.AsUInt32();
        var predicate = (int)(op.Immediate & 7);
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            (uint)CompareLane(a.GetElement(0), b.GetElement(0), false, predicate, m, ref flags),
            (uint)CompareLane(a.GetElement(1), b.GetElement(1), false, predicate, m, ref flags),
            (uint)CompareLane(a.GetElement(2), b.GetElement(2), false, predicate, m, ref flags),
            (uint)CompareLane(a.GetElement(3), b.GetElement(3), false, predicate, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool ComparePackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        var b = source.AsUInt64();
        var predicate = (int)(op.Immediate & 7);
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector128.Create(
            CompareLane(a.GetElement(0), b.GetElement(0), true, predicate, m, ref flags),
            CompareLane(a.GetElement(1), b.GetElement(1), true, predicate, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool CompareScalarSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 4, out var b)) return false;
        uint flags = 0;
        var r = CompareLane(p.XmmDword(op.R, 0), b, false, (int)(op.Immediate & 7), p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmDword(op.R, 0) = (uint)r;
        return p.Next(ref op);
    }

    private static bool CompareScalarDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 8, out var b)) return false;
        uint flags = 0;
        var r = CompareLane(p.XmmQword(op.R, 0), b, true, (int)(op.Immediate & 7), p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmQword(op.R, 0) = r;
        return p.Next(ref op);
    }

    private static bool OrderedCompareSingle(Processor p, ref DecodedOp op) => p.CompareToFlags(ref op, false, true);

    private static bool UnorderedCompareSingle(Processor p, ref DecodedOp op) => p.CompareToFlags(ref op, false, false);

    private static bool OrderedCompareDouble(Processor p, ref DecodedOp op) => p.CompareToFlags(ref op, true, true);

    private static bool UnorderedCompareDouble(Processor p, ref DecodedOp op) => p.CompareToFlags(ref op, true, false);

    private bool CompareToFlags(ref DecodedOp op, bool d, bool signalQuiet)
    {
        if (!SseOrAvxAvailable(ref op) || !XmmScalarSource(ref op, d ? 8 : 4, out var b)) return false;
        uint flags = 0;
        var a = d ? XmmQword(op.R, 0) : XmmDword(op.R, 0);
        var outcome = SimdFloat.Compare(a, b, d, _mxcsr, signalQuiet, ref flags);
        if (!SimdExceptions(flags)) return false;
        var values = outcome switch
        {
            2 => Rflags.ZF | Rflags.PF | Rflags.CF,
            -1 => Rflags.CF,
            0 => Rflags.ZF,
            _ => 0UL,
        };
        SetStatusFlags(Rflags.Status, values);
        return Next(ref op);
    }
}
