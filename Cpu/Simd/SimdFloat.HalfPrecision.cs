using Sim.Cpu.X87;

namespace Sim.Cpu.Simd;

internal static partial class SimdFloat
{
    private const int HalfBias = 15;
    private const int HalfFractionBits = 10;

    /// <summary>
    /// VCVTPH2PS for one element (SDM vol. 2, VCVTPH2PS): every binary16 value is exact in binary32, a denormal half
    /// becomes a normal single, MXCSR.DAZ is ignored and no DE is reported; an SNaN raises IE and is quieted, a NaN
    /// keeps its payload in the high fraction bits.
    /// </summary>
    public static uint HalfToSingle(ushort h, ref uint flags)
    {
        var sign = (uint)(h & 0x8000) << 16;
        var exponent = (h >> HalfFractionBits) & 0x1F;
        var fraction = (uint)(h & 0x3FF);
        if (exponent == 0x1F)
        {
            if (fraction == 0) return sign | 0x7F80_0000;
            if ((fraction & 0x200) == 0) flags |= IE;
            return sign | 0x7FC0_0000 | (fraction << 13);
        }
        if (exponent == 0)
        {
            if (fraction == 0) return sign;
            // 0.f × 2^−14: normalise the fraction so that its leading one becomes the implicit bit.
            var shift = System.Numerics.BitOperations.LeadingZeroCount(fraction) - 21;
            return sign | ((uint)(127 - HalfBias + 1 - shift) << 23) | ((fraction << shift) & 0x3FF) << 13;
        }
        return sign | ((uint)(exponent - HalfBias + 127) << 23) | (fraction << 13);
    }

    /// <summary>
    /// VCVTPS2PH for one element (SDM vol. 2, VCVTPS2PH): rounds per imm8[1:0], or per MXCSR.RC when imm8[2] is set;
    /// DAZ applies to the single source, FTZ is ignored (tiny results become half denormals); IE for an SNaN (quieted,
    /// high payload kept), DE for a denormal source, OE, UE (tininess after rounding) and PE as every SSE result has them.
    /// </summary>
    public static ushort SingleToHalf(uint s, byte imm8, uint mxcsr, ref uint flags)
    {
        var x = Source(s, false, mxcsr);
        var sign = (ushort)((x >> 16) & 0x8000);
        if (IsNaN(x, false))
        {
            if (IsSignalingNaN(x, false)) flags |= IE;
            return (ushort)(sign | 0x7E00 | (int)((x >> 13) & 0x3FF));
        }
        if (IsInfinity(x, false)) return (ushort)(sign | 0x7C00);
        if (IsZero(x, false)) return sign;
        if (IsDenormal(x, false)) flags |= DE;
        Unpack(x, false, out var negative, out var e, out var m);
        var rc = (imm8 & 4) != 0 ? (mxcsr >> 13) & 3 : imm8 & 3u;
        var cw = new FpuControlWord((ushort)(0x40 | ((mxcsr >> 7) & 0x3F) | (rc << 10)));
        var minExponent = ExtendedReal.ExponentBias + 1 - HalfBias;
        var overflowExponent = ExtendedReal.ExponentBias + HalfBias + 1;
        var r = Rounding.Round(negative, e, (UInt128)m << 64, HalfFractionBits + 1, minExponent, overflowExponent, cw, 0);
        flags |= (uint)r.Exceptions;
        if (r.Exponent >= overflowExponent) return (ushort)(sign | 0x7C00);
        var fraction = (r.Significand >> (63 - HalfFractionBits)) & 0x3FF;
        var biased = (r.Significand & ExtendedReal.IntegerBit) == 0 ? 0 : r.Exponent - ExtendedReal.ExponentBias + HalfBias;
        return (ushort)(sign | (biased << HalfFractionBits) | (int)fraction);
    }
}
