using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>A floating-point operation of one lane: <c>a</c> the first source (the destination), <c>b</c> the second.</summary>
internal interface IFloatOperation
{
    static abstract ulong Apply(ulong a, ulong b, bool d, uint mxcsr, ref uint flags);
}

/// <summary>
/// SSE and SSE2 packed and scalar floating-point arithmetic (SDM vol. 1, 10.4.2 and 11.4.1.1): ADD, SUB, MUL, DIV,
/// SQRT, MIN, MAX in PS, SS, PD and SD forms, and RCP/RSQRT. Every lane is computed by <see cref="SimdFloat"/>; the
/// destination is written only when no unmasked exception arose in any lane.
/// </summary>
public sealed unsafe partial class Processor
{
    private struct FloatAdd : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Add(a, b, d, m, ref f); }
    private struct FloatSubtract : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Subtract(a, b, d, m, ref f); }
    private struct FloatMultiply : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Multiply(a, b, d, m, ref f); }
    private struct FloatDivide : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Divide(a, b, d, m, ref f); }
    private struct FloatMinimum : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Minimum(a, b, d, m, ref f); }
    private struct FloatMaximum : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Maximum(a, b, d, m, ref f); }
    private struct FloatSquareRoot : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.SquareRoot(b, d, m, ref f); }
    private struct FloatReciprocal : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.Reciprocal(b, m); }
    private struct FloatReciprocalSquareRoot : IFloatOperation { public static ulong Apply(ulong a, ulong b, bool d, uint m, ref uint f) => SimdFloat.ReciprocalSquareRoot(b, m); }

    private static bool PackedSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        var b = source.AsUInt32();
        uint flags = 0;
        var mxcsr = p._mxcsr;
        var r = Vector128.Create(
            (uint)T.Apply(a.GetElement(0), b.GetElement(0), false, mxcsr, ref flags),
            (uint)T.Apply(a.GetElement(1), b.GetElement(1), false, mxcsr, ref flags),
            (uint)T.Apply(a.GetElement(2), b.GetElement(2), false, mxcsr, ref flags),
            (uint)T.Apply(a.GetElement(3), b.GetElement(3), false, mxcsr, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool PackedDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        var b = source.AsUInt64();
        uint flags = 0;
        var mxcsr = p._mxcsr;
        var r = Vector128.Create(
            T.Apply(a.GetElement(0), b.GetElement(0), true, mxcsr, ref flags),
            T.Apply(a.GetElement(1), b.GetElement(1), true, mxcsr, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool ScalarSingle<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 4, out var b)) return false;
        uint flags = 0;
        var r = (uint)T.Apply(p.XmmDword(op.R, 0), b, false, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmDword(op.R, 0) = r;
        return p.Next(ref op);
    }

    private static bool ScalarDouble<T>(Processor p, ref DecodedOp op) where T : struct, IFloatOperation
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, 8, out var b)) return false;
        uint flags = 0;
        var r = T.Apply(p.XmmQword(op.R, 0), b, true, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.XmmQword(op.R, 0) = r;
        return p.Next(ref op);
    }
}
