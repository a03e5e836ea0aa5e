using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>A floating-point operation on 128 bits with an imm8 (DPPS, ROUNDPS ...): lanes computed by <see cref="SimdFloat"/> under MXCSR.</summary>
internal interface IFloatVectorImmediateOperation
{
    static abstract Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint mxcsr, ref uint flags);
}

/// <summary>A scalar form (ROUNDSS, ROUNDSD): the source is the low <see cref="SourceBytes"/> bytes of a register or memory.</summary>
internal interface IScalarFloatImmediateOperation : IFloatVectorImmediateOperation
{
    static abstract int SourceBytes { get; }
}

/// <summary>
/// The SSE4.1 floating-point instructions (SDM vol. 2, DPPS, DPPD, ROUNDPS/PD/SS/SD): dot products in the manual's
/// order of multiplies and adds, each rounded under MXCSR; rounding to an integral value by imm8[1:0] or MXCSR.RC
/// (imm8[2]), the precision exception suppressed by imm8[3]. The destination is written only when no unmasked exception arose.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool XmmFloatImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IFloatVectorImmediateOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var b)) return false;
        uint flags = 0;
        var r = T.Apply(p.Xmm(op.R), b, (byte)op.Immediate, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r;
        return p.Next(ref op);
    }

    /// <summary>ROUNDSS/ROUNDSD: the source is the low lane of XMM(rm) or a 4- or 8-byte memory operand; the other lanes come from the destination.</summary>
    private static bool XmmScalarFloatImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IScalarFloatImmediateOperation
    {
        if (!p.SseAvailable() || !p.XmmScalarSource(ref op, T.SourceBytes, out var v)) return false;
        uint flags = 0;
        var r = T.Apply(p.Xmm(op.R), Vector128.CreateScalar(v).AsByte(), (byte)op.Immediate, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Xmm(op.R) = r;
        return p.Next(ref op);
    }

    /// <summary>
    /// DPPS: the products of the lanes selected by imm8[7:4] (+0.0 for the others), added as (p0 + p1) + (p2 + p3),
    /// the sum written to the lanes selected by imm8[3:0] (+0.0 to the others); every multiply and add rounded and flagged.
    /// </summary>
    private struct DotProductSingle : IFloatVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f)
        {
            var x = a.AsUInt32();
            var y = b.AsUInt32();
            Span<ulong> t = stackalloc ulong[4];
            for (var i = 0; i < 4; i++) t[i] = (imm & (0x10 << i)) != 0 ? SimdFloat.Multiply(x[i], y[i], false, m, ref f) : 0;
            var low = SimdFloat.Add(t[0], t[1], false, m, ref f);
            var high = SimdFloat.Add(t[2], t[3], false, m, ref f);
            var sum = (uint)SimdFloat.Add(low, high, false, m, ref f);
            return (Vector128.Create(sum) & ImmediateMask32(imm & 15)).AsByte();
        }
    }

    /// <summary>DPPD: the products of the lanes selected by imm8[5:4] added, written to the lanes of imm8[1:0].</summary>
    private struct DotProductDouble : IFloatVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f)
        {
            var x = a.AsUInt64();
            var y = b.AsUInt64();
            var t0 = (imm & 0x10) != 0 ? SimdFloat.Multiply(x[0], y[0], true, m, ref f) : 0;
            var t1 = (imm & 0x20) != 0 ? SimdFloat.Multiply(x[1], y[1], true, m, ref f) : 0;
            var sum = SimdFloat.Add(t0, t1, true, m, ref f);
            return Vector128.Create((imm & 1) != 0 ? sum : 0, (imm & 2) != 0 ? sum : 0).AsByte();
        }
    }

    private struct RoundPackedSingle : IFloatVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f)
        {
            var y = b.AsUInt32();
            return Vector128.Create(
                (uint)SimdFloat.RoundToIntegral(y[0], false, imm, m, ref f),
                (uint)SimdFloat.RoundToIntegral(y[1], false, imm, m, ref f),
                (uint)SimdFloat.RoundToIntegral(y[2], false, imm, m, ref f),
                (uint)SimdFloat.RoundToIntegral(y[3], false, imm, m, ref f)).AsByte();
        }
    }

    private struct RoundPackedDouble : IFloatVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f)
        {
            var y = b.AsUInt64();
            return Vector128.Create(SimdFloat.RoundToIntegral(y[0], true, imm, m, ref f), SimdFloat.RoundToIntegral(y[1], true, imm, m, ref f)).AsByte();
        }
    }

    private struct RoundScalarSingle : IScalarFloatImmediateOperation
    {
        public static int SourceBytes => 4;

        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f) =>
            a.AsUInt32().WithElement(0, (uint)SimdFloat.RoundToIntegral(b.AsUInt32()[0], false, imm, m, ref f)).AsByte();
    }

    private struct RoundScalarDouble : IScalarFloatImmediateOperation
    {
        public static int SourceBytes => 8;

        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm, uint m, ref uint f) =>
            a.AsUInt64().WithElement(0, SimdFloat.RoundToIntegral(b.AsUInt64()[0], true, imm, m, ref f)).AsByte();
    }
}
