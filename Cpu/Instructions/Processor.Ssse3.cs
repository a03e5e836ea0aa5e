using System.Runtime.Intrinsics;
using Iced.Intel;

namespace Sim.Cpu;

/// <summary>An integer SIMD operation of two 128-bit operands and an imm8 (PALIGNR, PBLENDW, MPSADBW ...).</summary>
internal interface IVectorImmediateOperation
{
    static abstract Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm);

    /// <summary>The imm8 bits that control the upper 128-bit lane of a VEX.256 form (VBLENDPS ymm: imm8[7:4]); by default the same imm8.</summary>
    static virtual byte UpperLaneImmediate(byte imm) => imm;
}

/// <summary>
/// The SSSE3 instructions (SDM vol. 1, 12.9): PABSB/W/D, PALIGNR, PHADDW/D, PHADDSW, PHSUBW/D, PHSUBSW, PMADDUBSW,
/// PMULHRSW, PSHUFB and PSIGNB/W/D, in their MMX (64-bit) and XMM forms. The MMX forms apply the 128-bit operation to
/// their operands in the low half, except the horizontal ones (whose results cross the halves: they take the 128-bit
/// operation of the concatenated operands), PSHUFB (indices of 3 bits) and PALIGNR (a 128-bit concatenation).
/// </summary>
public sealed unsafe partial class Processor
{
    private static SimdOperation[] Ssse3Operations() =>
    [
        new(Code.Pabsb_mm_mmm64, Handler.Mmx, &MmxInteger<AbsoluteBytes>),
        new(Code.Pabsb_xmm_xmmm128, Handler.Sse, &XmmInteger<AbsoluteBytes>),
        new(Code.Pabsw_mm_mmm64, Handler.Mmx, &MmxInteger<AbsoluteWords>),
        new(Code.Pabsw_xmm_xmmm128, Handler.Sse, &XmmInteger<AbsoluteWords>),
        new(Code.Pabsd_mm_mmm64, Handler.Mmx, &MmxInteger<AbsoluteDwords>),
        new(Code.Pabsd_xmm_xmmm128, Handler.Sse, &XmmInteger<AbsoluteDwords>),
        new(Code.Palignr_mm_mmm64_imm8, Handler.Mmx, &MmxAlignRight),
        new(Code.Palignr_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<AlignRight>),
        new(Code.Phaddw_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalAddWords>),
        new(Code.Phaddw_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalAddWords>),
        new(Code.Phaddd_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalAddDwords>),
        new(Code.Phaddd_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalAddDwords>),
        new(Code.Phaddsw_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalAddSaturateWords>),
        new(Code.Phaddsw_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalAddSaturateWords>),
        new(Code.Phsubw_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalSubtractWords>),
        new(Code.Phsubw_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalSubtractWords>),
        new(Code.Phsubd_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalSubtractDwords>),
        new(Code.Phsubd_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalSubtractDwords>),
        new(Code.Phsubsw_mm_mmm64, Handler.Mmx, &MmxPack<HorizontalSubtractSaturateWords>),
        new(Code.Phsubsw_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalSubtractSaturateWords>),
        new(Code.Pmaddubsw_mm_mmm64, Handler.Mmx, &MmxInteger<MultiplyAddUnsignedSignedBytes>),
        new(Code.Pmaddubsw_xmm_xmmm128, Handler.Sse, &XmmInteger<MultiplyAddUnsignedSignedBytes>),
        new(Code.Pmulhrsw_mm_mmm64, Handler.Mmx, &MmxInteger<MultiplyHighRoundScaleWords>),
        new(Code.Pmulhrsw_xmm_xmmm128, Handler.Sse, &XmmInteger<MultiplyHighRoundScaleWords>),
        new(Code.Pshufb_mm_mmm64, Handler.Mmx, &MmxShuffleBytes),
        new(Code.Pshufb_xmm_xmmm128, Handler.Sse, &XmmInteger<ShuffleBytes>),
        new(Code.Psignb_mm_mmm64, Handler.Mmx, &MmxInteger<SignBytes>),
        new(Code.Psignb_xmm_xmmm128, Handler.Sse, &XmmInteger<SignBytes>),
        new(Code.Psignw_mm_mmm64, Handler.Mmx, &MmxInteger<SignWords>),
        new(Code.Psignw_xmm_xmmm128, Handler.Sse, &XmmInteger<SignWords>),
        new(Code.Psignd_mm_mmm64, Handler.Mmx, &MmxInteger<SignDwords>),
        new(Code.Psignd_xmm_xmmm128, Handler.Sse, &XmmInteger<SignDwords>),
    ];

    private static bool XmmIntegerImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IVectorImmediateOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var b)) return false;
        ref var a = ref p.Xmm(op.R);
        a = T.Apply(a, b, (byte)op.Immediate);
        return p.Next(ref op);
    }

    /// <summary>PALIGNR mm, mm/m64, imm8: the 128-bit concatenation destination:source shifted right by imm8 bytes, its low quadword.</summary>
    private static bool MmxAlignRight(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        var shift = (int)(op.Immediate & 0xFF);
        var both = new UInt128(p.Mm(op.R), b);
        p.SetMm(op.R, shift >= 16 ? 0 : (ulong)(both >> (shift * 8)));
        return p.Next(ref op);
    }

    /// <summary>PSHUFB mm: each byte selected by the low three bits of the index, or zero when its bit 7 is set.</summary>
    private static bool MmxShuffleBytes(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        var a = p.Mm(op.R);
        ulong r = 0;
        for (var i = 0; i < 8; i++)
        {
            var index = (byte)(b >> (8 * i));
            if ((index & 0x80) == 0) r |= ((a >> (8 * (index & 7))) & 0xFF) << (8 * i);
        }
        p.SetMm(op.R, r);
        return p.Next(ref op);
    }

    private struct AbsoluteBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Abs(b.AsSByte()).AsByte(); }
    private struct AbsoluteWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Abs(b.AsInt16()).AsByte(); }
    private struct AbsoluteDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Abs(b.AsInt32()).AsByte(); }

    /// <summary>PSIGNB/W/D: the destination element negated where the source's is negative, zeroed where it is zero.</summary>
    private struct SignBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var s = b.AsSByte();
            var x = a.AsSByte();
            return Vector128.ConditionalSelect(Vector128.LessThan(s, Vector128<sbyte>.Zero), -x, x & ~Vector128.Equals(s, Vector128<sbyte>.Zero)).AsByte();
        }
    }

    private struct SignWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var s = b.AsInt16();
            var x = a.AsInt16();
            return Vector128.ConditionalSelect(Vector128.LessThan(s, Vector128<short>.Zero), -x, x & ~Vector128.Equals(s, Vector128<short>.Zero)).AsByte();
        }
    }

    private struct SignDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var s = b.AsInt32();
            var x = a.AsInt32();
            return Vector128.ConditionalSelect(Vector128.LessThan(s, Vector128<int>.Zero), -x, x & ~Vector128.Equals(s, Vector128<int>.Zero)).AsByte();
        }
    }

    /// <summary>PALIGNR xmm: the 256-bit concatenation destination:source shifted right by imm8 bytes, its low 128 bits.</summary>
    private struct AlignRight : IVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm)
        {
            if (imm >= 32) return Vector128<byte>.Zero;
            if (imm >= 16) return FromUInt128(ToUInt128(a) >> ((imm - 16) * 8));
            if (imm == 0) return b;
            return FromUInt128((ToUInt128(b) >> (imm * 8)) | (ToUInt128(a) << ((16 - imm) * 8)));
        }
    }

    /// <summary>The adjacent pairs of the destination, then of the source: the lower element first (PHSUB subtracts the higher from it).</summary>
    private static Vector128<byte> HorizontalWords(Vector128<byte> a, Vector128<byte> b, bool subtract, bool saturate)
    {
        var x = a.AsInt16();
        var y = b.AsInt16();
        var r = Vector128<short>.Zero;
        for (var i = 0; i < 8; i++)
        {
            var v = i < 4 ? x : y;
            var k = (i & 3) * 2;
            int low = v.GetElement(k), high = v.GetElement(k + 1);
            var s = subtract ? low - high : low + high;
            r = r.WithElement(i, saturate ? (short)Math.Clamp(s, short.MinValue, short.MaxValue) : (short)s);
        }
        return r.AsByte();
    }

    private struct HorizontalAddWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => HorizontalWords(a, b, false, false); }
    private struct HorizontalAddSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => HorizontalWords(a, b, false, true); }
    private struct HorizontalSubtractWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => HorizontalWords(a, b, true, false); }
    private struct HorizontalSubtractSaturateWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => HorizontalWords(a, b, true, true); }

    private struct HorizontalAddDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var x = a.AsUInt32();
            var y = b.AsUInt32();
            return Vector128.Create(x[0] + x[1], x[2] + x[3], y[0] + y[1], y[2] + y[3]).AsByte();
        }
    }

    private struct HorizontalSubtractDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var x = a.AsUInt32();
            var y = b.AsUInt32();
            return Vector128.Create(x[0] - x[1], x[2] - x[3], y[0] - y[1], y[2] - y[3]).AsByte();
        }
    }

    /// <summary>PMADDUBSW: unsigned bytes of the destination times signed bytes of the source, adjacent products added with signed saturation.</summary>
    private struct MultiplyAddUnsignedSignedBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var s = b.AsSByte();
            var r = Vector128<short>.Zero;
            for (var i = 0; i < 8; i++)
            {
                var sum = a[2 * i] * s[2 * i] + a[2 * i + 1] * s[2 * i + 1];
                r = r.WithElement(i, (short)Math.Clamp(sum, short.MinValue, short.MaxValue));
            }
            return r.AsByte();
        }
    }

    /// <summary>PMULHRSW: the signed product scaled by 2^−15 and rounded: ((a × b >> 14) + 1) >> 1, its low 16 bits.</summary>
    private struct MultiplyHighRoundScaleWords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var (al, ah) = Vector128.Widen(a.AsInt16());
            var (bl, bh) = Vector128.Widen(b.AsInt16());
            var one = Vector128.Create(1);
            return Vector128.Narrow((((al * bl) >> 14) + one) >> 1, (((ah * bh) >> 14) + one) >> 1).AsByte();
        }
    }

    /// <summary>PSHUFB xmm: each byte selected by the low four bits of the index, or zero when its bit 7 is set.</summary>
    private struct ShuffleBytes : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var index = b & Vector128.Create((byte)0x8F);
            // Vector128.Shuffle gives zero for an index outside 0–15, which is what bit 7 asks for.
            return Vector128.Shuffle(a, index);
        }
    }
}
