using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sim.Cpu;

/// <summary>An integer SIMD operation on 128 bits; the MMX forms apply it to their 64-bit operands in the low half.</summary>
internal interface IVectorOperation
{
    static abstract Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b);
}

/// <summary>
/// The SSE2 128-bit integer instructions and the MMX and SSE integer operations they extend (SDM vol. 1, 9.4 and
/// 11.4.3): packed add and subtract (wrapping and saturating), multiply, PMADDWD, PSADBW, PAVG, PMIN/PMAX, compare,
/// logical, shifts, pack and unpack. Each operation is a struct so that its handler is specialised per operation;
/// System.Runtime.Intrinsics gives the exact results, with SSE2 where Vector128 has no portable equivalent.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool XmmInteger<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var b)) return false;
        ref var a = ref p.Xmm(op.R);
        a = T.Apply(a, b);
        return p.Next(ref op);
    }

    /// <summary>PSLLW xmm, imm8 and kin: the immediate count in place of the second operand.</summary>
    private static bool XmmShiftImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.SseAvailable()) return false;
        ref var a = ref p.Xmm(op.Rm);
        a = T.Apply(a, Vector128.CreateScalar(op.Immediate).AsByte());
        return p.Next(ref op);
    }

    private struct AddBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => a + b; }
    private struct AddWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt16() + b.AsUInt16()).AsByte(); }
    private struct AddDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt32() + b.AsUInt32()).AsByte(); }
    private struct AddQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt64() + b.AsUInt64()).AsByte(); }
    private struct SubtractBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => a - b; }
    private struct SubtractWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt16() - b.AsUInt16()).AsByte(); }
    private struct SubtractDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt32() - b.AsUInt32()).AsByte(); }
    private struct SubtractQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt64() - b.AsUInt64()).AsByte(); }
    private struct AddSignedSaturateBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.AddSaturate(a.AsSByte(), b.AsSByte()).AsByte(); }
    private struct AddSignedSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.AddSaturate(a.AsInt16(), b.AsInt16()).AsByte(); }
    private struct AddUnsignedSaturateBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.AddSaturate(a, b); }
    private struct AddUnsignedSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.AddSaturate(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    private struct SubtractSignedSaturateBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.SubtractSaturate(a.AsSByte(), b.AsSByte()).AsByte(); }
    private struct SubtractSignedSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.SubtractSaturate(a.AsInt16(), b.AsInt16()).AsByte(); }
    private struct SubtractUnsignedSaturateBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.SubtractSaturate(a, b); }
    private struct SubtractUnsignedSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.SubtractSaturate(a.AsUInt16(), b.AsUInt16()).AsByte(); }

    private struct MultiplyLowWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsInt16() * b.AsInt16()).AsByte(); }

    private struct MultiplyHighWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.MultiplyHigh(a.AsInt16(), b.AsInt16()).AsByte();
            var (al, ah) = Vector128.Widen(a.AsInt16());
            var (bl, bh) = Vector128.Widen(b.AsInt16());
            return Vector128.Narrow((al * bl) >> 16, (ah * bh) >> 16).AsByte();
        }
    }

    private struct MultiplyHighUnsignedWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.MultiplyHigh(a.AsUInt16(), b.AsUInt16()).AsByte();
            var (al, ah) = Vector128.Widen(a.AsUInt16());
            var (bl, bh) = Vector128.Widen(b.AsUInt16());
            return Vector128.Narrow((al * bl) >> 16, (ah * bh) >> 16).AsByte();
        }
    }

    /// <summary>PMULUDQ: the even dwords multiplied to quadwords.</summary>
    private struct MultiplyUnsignedDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var even = Vector128.Create(0xFFFF_FFFFUL);
            return ((a.AsUInt64() & even) * (b.AsUInt64() & even)).AsByte();
        }
    }

    private struct MultiplyAddWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.MultiplyAddAdjacent(a.AsInt16(), b.AsInt16()).AsByte();
            var (al, ah) = Vector128.Widen(a.AsInt16());
            var (bl, bh) = Vector128.Widen(b.AsInt16());
            var lo = (al * bl).AsUInt32();
            var hi = (ah * bh).AsUInt32();
            // Pairs of adjacent products; 8000h × 8000h twice wraps to 80000000h as PMADDWD does.
            var even = Vector128.Create(lo.GetElement(0) + lo.GetElement(1), lo.GetElement(2) + lo.GetElement(3),
                hi.GetElement(0) + hi.GetElement(1), hi.GetElement(2) + hi.GetElement(3));
            return even.AsByte();
        }
    }

    private struct SumAbsoluteDifferences : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.SumAbsoluteDifferences(a, b).AsByte();
            var d = Vector128.Max(a, b) - Vector128.Min(a, b);
            ulong low = 0, high = 0;
            for (var i = 0; i < 8; i++)
            {
                low += d.GetElement(i);
                high += d.GetElement(i + 8);
            }
            return Vector128.Create(low, high).AsByte();
        }
    }

    private struct AverageBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) =>
            Sse2.IsSupported ? Sse2.Average(a, b) : (a >> 1) + (b >> 1) + ((a | b) & Vector128.Create((byte)1));
    }

    private struct AverageWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.Average(a.AsUInt16(), b.AsUInt16()).AsByte();
            var x = a.AsUInt16();
            var y = b.AsUInt16();
            return ((x >> 1) + (y >> 1) + ((x | y) & Vector128.Create((ushort)1))).AsByte();
        }
    }

    private struct MinimumUnsignedBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a, b); }
    private struct MaximumUnsignedBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a, b); }
    private struct MinimumSignedWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a.AsInt16(), b.AsInt16()).AsByte(); }
    private struct MaximumSignedWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a.AsInt16(), b.AsInt16()).AsByte(); }

    private struct CompareEqualBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Equals(a, b); }
    private struct CompareEqualWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Equals(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    private struct CompareEqualDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Equals(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    private struct CompareGreaterBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.GreaterThan(a.AsSByte(), b.AsSByte()).AsByte(); }
    private struct CompareGreaterWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.GreaterThan(a.AsInt16(), b.AsInt16()).AsByte(); }
    private struct CompareGreaterDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.GreaterThan(a.AsInt32(), b.AsInt32()).AsByte(); }

    private struct And : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => a & b; }
    private struct AndNot : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ~a & b; }
    private struct Or : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => a | b; }
    private struct Xor : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => a ^ b; }

    /// <summary>Shifts by the low quadword of the second operand; a count beyond the element width clears (or sign-fills) every element.</summary>
    private static ulong ShiftCount(Vector128<byte> b) => b.AsUInt64().ToScalar();

    private struct ShiftLeftWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 15 ? Vector128<byte>.Zero : (a.AsUInt16() << (int)ShiftCount(b)).AsByte(); }
    private struct ShiftLeftDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 31 ? Vector128<byte>.Zero : (a.AsUInt32() << (int)ShiftCount(b)).AsByte(); }
    private struct ShiftLeftQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 63 ? Vector128<byte>.Zero : (a.AsUInt64() << (int)ShiftCount(b)).AsByte(); }
    private struct ShiftRightWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 15 ? Vector128<byte>.Zero : (a.AsUInt16() >>> (int)ShiftCount(b)).AsByte(); }
    private struct ShiftRightDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 31 ? Vector128<byte>.Zero : (a.AsUInt32() >>> (int)ShiftCount(b)).AsByte(); }
    private struct ShiftRightQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => ShiftCount(b) > 63 ? Vector128<byte>.Zero : (a.AsUInt64() >>> (int)ShiftCount(b)).AsByte(); }
    private struct ShiftRightArithmeticWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsInt16() >> (int)Math.Min(ShiftCount(b), 15)).AsByte(); }
    private struct ShiftRightArithmeticDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsInt32() >> (int)Math.Min(ShiftCount(b), 31)).AsByte(); }

    /// <summary>PSLLDQ: a byte shift of the whole register (SSE2 only); a count above 15 clears it.</summary>
    private struct ShiftLeftBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) =>
            ShiftCount(b) > 15 ? Vector128<byte>.Zero : FromUInt128(ToUInt128(a) << (int)(ShiftCount(b) * 8));
    }

    private struct ShiftRightBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) =>
            ShiftCount(b) > 15 ? Vector128<byte>.Zero : FromUInt128(ToUInt128(a) >> (int)(ShiftCount(b) * 8));
    }

    private static UInt128 ToUInt128(Vector128<byte> v) => new(v.AsUInt64().GetElement(1), v.AsUInt64().GetElement(0));

    private static Vector128<byte> FromUInt128(UInt128 v) => Vector128.Create((ulong)v, (ulong)(v >> 64)).AsByte();

    private struct PackSignedWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.NarrowWithSaturation(a.AsInt16(), b.AsInt16()).AsByte(); }
    private struct PackSignedDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.NarrowWithSaturation(a.AsInt32(), b.AsInt32()).AsByte(); }

    private struct PackUnsignedWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            if (Sse2.IsSupported) return Sse2.PackUnsignedSaturate(a.AsInt16(), b.AsInt16());
            var lo = Vector128.Clamp(a.AsInt16(), Vector128<short>.Zero, Vector128.Create((short)255));
            var hi = Vector128.Clamp(b.AsInt16(), Vector128<short>.Zero, Vector128.Create((short)255));
            return Vector128.Narrow(lo.AsUInt16(), hi.AsUInt16());
        }
    }

    private struct UnpackLowBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Interleave(a, b, 0); }
    private struct UnpackHighBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Interleave(a, b, 8); }
    private struct UnpackLowWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => InterleaveWords(a, b, 0); }
    private struct UnpackHighWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => InterleaveWords(a, b, 4); }
    private struct UnpackLowDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Create(a.AsUInt32().GetElement(0), b.AsUInt32().GetElement(0), a.AsUInt32().GetElement(1), b.AsUInt32().GetElement(1)).AsByte(); }
    private struct UnpackHighDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Create(a.AsUInt32().GetElement(2), b.AsUInt32().GetElement(2), a.AsUInt32().GetElement(3), b.AsUInt32().GetElement(3)).AsByte(); }
    private struct UnpackLowQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Create(a.AsUInt64().GetElement(0), b.AsUInt64().GetElement(0)).AsByte(); }
    private struct UnpackHighQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Create(a.AsUInt64().GetElement(1), b.AsUInt64().GetElement(1)).AsByte(); }

    private static Vector128<byte> Interleave(Vector128<byte> a, Vector128<byte> b, int from)
    {
        if (Sse2.IsSupported) return from == 0 ? Sse2.UnpackLow(a, b) : Sse2.UnpackHigh(a, b);
        Span<byte> r = stackalloc byte[16];
        for (var i = 0; i < 8; i++)
        {
            r[2 * i] = a.GetElement(from + i);
            r[2 * i + 1] = b.GetElement(from + i);
        }
        return Vector128.Create((ReadOnlySpan<byte>)r);
    }

    private static Vector128<byte> InterleaveWords(Vector128<byte> a, Vector128<byte> b, int from)
    {
        var x = a.AsUInt16();
        var y = b.AsUInt16();
        return Vector128.Create(x.GetElement(from), y.GetElement(from), x.GetElement(from + 1), y.GetElement(from + 1),
            x.GetElement(from + 2), y.GetElement(from + 2), x.GetElement(from + 3), y.GetElement(from + 3)).AsByte();
    }
}
