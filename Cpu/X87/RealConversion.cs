using System.Runtime.CompilerServices;

namespace Sim.Cpu.X87;

/// <summary>
/// FLD and FST/FSTP between extended reals and the IEEE binary32 and binary64 memory formats (SDM vol. 1, 4.2 and
/// 8.3.2). Loads are exact; stores round by RC to the format's precision and exponent range, whatever PC says, and
/// do not report a denormal source with #D (the hardware does not).
/// </summary>
public static class RealConversion
{
    private readonly record struct Format(int Precision, int ExponentBits)
    {
        public int Bias => (1 << (ExponentBits - 1)) - 1;
        public int FractionBits => Precision - 1;
        public ulong FractionMask => (1UL << FractionBits) - 1;
        public int MaxField => (1 << ExponentBits) - 1;
        /// <summary>The extended-scale exponent of the format's smallest normal.</summary>
        public int MinExponent => ExtendedReal.ExponentBias - Bias + 1;
        /// <summary>The extended-scale exponent the format can no longer encode.</summary>
        public int OverflowExponent => ExtendedReal.ExponentBias + Bias + 1;
    }

    private static readonly Format Binary32 = new(24, 8);
    private static readonly Format Binary64 = new(53, 11);

    public static FpuResult FromBinary32(uint bits)
    {
        // A normal value: the exponent rebiased, the integer bit made explicit, the fraction below it.
        var field = (int)(bits >> 23) & 0xFF;
        if ((uint)(field - 1) < 0xFE)
            return new(new ExtendedReal((ushort)(((bits >> 16) & 0x8000) | (uint)(field - 0x7F + ExtendedReal.ExponentBias)),
                ExtendedReal.IntegerBit | (ulong)bits << 40), FpuExceptions.None);
        return Load(bits, Binary32);
    }

    public static FpuResult FromBinary64(ulong bits)
    {
        var field = (int)(bits >> 52) & 0x7FF;
        if ((uint)(field - 1) < 0x7FE)
            return new(new ExtendedReal((ushort)(((bits >> 48) & 0x8000) | (uint)(field - 0x3FF + ExtendedReal.ExponentBias)),
                ExtendedReal.IntegerBit | bits << 11), FpuExceptions.None);
        return Load(bits, Binary64);
    }

    public static ConversionResult ToBinary32(ExtendedReal a, FpuControlWord cw) =>
        TryStoreNormal(a, cw, 24, 8, out var r) ? r : Store(a, cw, Binary32);

    public static ConversionResult ToBinary64(ExtendedReal a, FpuControlWord cw) =>
        TryStoreNormal(a, cw, 53, 11, out var r) ? r : Store(a, cw, Binary64);

    /// <summary>The loads and stores without their fast paths, for comparing the two.</summary>
    internal static FpuResult GeneralFromBinary32(uint bits) => Load(bits, Binary32);

    internal static FpuResult GeneralFromBinary64(ulong bits) => Load(bits, Binary64);

    internal static ConversionResult GeneralToBinary32(ExtendedReal a, FpuControlWord cw) => Store(a, cw, Binary32);

    internal static ConversionResult GeneralToBinary64(ExtendedReal a, FpuControlWord cw) => Store(a, cw, Binary64);

    /// <summary>
    /// The store of a normal value that is normal and finite in the format after rounding: what <see cref="Store"/>
    /// computes, without its case analysis, which cannot apply; false for anything else.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryStoreNormal(ExtendedReal a, FpuControlWord cw, int precision, int exponentBits, out ConversionResult result)
    {
        var bias = (1 << (exponentBits - 1)) - 1;
        var exponent = a.Exponent;
        if (!NormalArithmetic.IsNormal(a) || exponent < ExtendedReal.ExponentBias - bias + 1)
        {
            result = default;
            return false;
        }
        var significand = NormalArithmetic.RoundSignificand(a.Sign, ref exponent, a.Significand, 0, precision, cw.RoundingControl,
            out var inexact, out var up);
        if (exponent > ExtendedReal.ExponentBias + bias)
        {
            result = default;
            return false;
        }
        var fractionBits = precision - 1;
        var sign = a.Sign ? 1UL << (precision + exponentBits - 1) : 0;
        var field = (ulong)(exponent - ExtendedReal.ExponentBias + bias);
        var bits = sign | field << fractionBits | (significand >> (63 - fractionBits)) & ((1UL << fractionBits) - 1);
        // Only #P can arise, which never suppresses the store.
        result = inexact ? new(bits, FpuExceptions.Precision, up) : new(bits, FpuExceptions.None);
        return true;
    }

    private static FpuResult Load(ulong bits, Format format)
    {
        var width = format.Precision + format.ExponentBits;
        var sign = (bits >> (width - 1) & 1) != 0;
        var field = (int)(bits >> format.FractionBits) & format.MaxField;
        var fraction = bits & format.FractionMask;
        // The fraction's top bit lands on bit 62 of the extended significand.
        var aligned = fraction << (63 - format.FractionBits);
        if (field == format.MaxField)
        {
            if (fraction == 0)
                return new(BasicArithmetic.Infinity(sign), FpuExceptions.None);
            var nan = new ExtendedReal(sign, ExtendedReal.MaxExponent, ExtendedReal.IntegerBit | aligned);
            return nan.IsSignalingNaN ? new(nan.Quieted(), FpuExceptions.Invalid) : new(nan, FpuExceptions.None);
        }
        if (field == 0)
        {
            if (fraction == 0)
                return new(BasicArithmetic.Zero(sign), FpuExceptions.None);
            var shift = Rounding.LeadingZeroCount(aligned);
            return new(new ExtendedReal(sign, format.MinExponent - shift, aligned << shift), FpuExceptions.Denormal);
        }
        return new(new ExtendedReal(sign, field - format.Bias + ExtendedReal.ExponentBias, ExtendedReal.IntegerBit | aligned), FpuExceptions.None);
    }

    private static ConversionResult Store(ExtendedReal a, FpuControlWord cw, Format format)
    {
        var width = format.Precision + format.ExponentBits;
        var signBit = 1UL << (width - 1);
        var infinity = (ulong)format.MaxField << format.FractionBits;
        var sign = a.Sign ? signBit : 0;
        if (a.IsUnsupported)
            return new(signBit | infinity | 1UL << (format.FractionBits - 1), FpuExceptions.Invalid);
        if (a.IsNaN)
        {
            var flags = a.IsSignalingNaN ? FpuExceptions.Invalid : FpuExceptions.None;
            var payload = ((a.Significand | ExtendedReal.QuietBit) >> (63 - format.FractionBits)) & format.FractionMask;
            return new(sign | infinity | payload, flags);
        }
        if (a.IsInfinity)
            return new(sign | infinity, FpuExceptions.None);
        if (a.IsZero)
            return new(sign, FpuExceptions.None);

        var x = UnpackedReal.From(a);
        var r = Rounding.Round(x.Sign, x.Exponent, (UInt128)x.Significand << 64, format.Precision, format.MinExponent,
            format.OverflowExponent, cw, 0);
        var field = (ulong)(r.Exponent - ExtendedReal.ExponentBias + format.Bias);
        var bits = sign | field << format.FractionBits | (r.Significand >> (63 - format.FractionBits)) & format.FractionMask;
        return ConversionResult.ForStore(bits, r.Exceptions, r.RoundedUp, cw);
    }
}
