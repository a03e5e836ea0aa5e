namespace Sim.Cpu.X87;

/// <summary>
/// FILD, FIST/FISTP (rounding by RC) and FISTTP (truncating) between extended reals and 16-, 32- and 64-bit signed
/// integers. A NaN, an infinity, an unsupported encoding or a value out of range gives the integer indefinite (only the
/// sign bit set) with #IA (SDM vol. 1, 4.8.3.7 and 8.2). A denormal source raises no #D.
/// </summary>
public static class IntegerConversion
{
    public static ExtendedReal FromInt16(short value) => FromInt64(value);

    public static ExtendedReal FromInt32(int value) => FromInt64(value);

    /// <summary>Every 64-bit integer is exact in 64 significand bits, so FILD raises nothing.</summary>
    public static ExtendedReal FromInt64(long value)
    {
        if (value == 0)
            return ExtendedReal.PositiveZero;
        var magnitude = value < 0 ? (ulong)-value : (ulong)value;
        var shift = Rounding.LeadingZeroCount(magnitude);
        return new ExtendedReal(value < 0, ExtendedReal.ExponentBias + 63 - shift, magnitude << shift);
    }

    public static ConversionResult ToInt16(ExtendedReal a, FpuControlWord cw) => ToInteger(a, 16, cw.RoundingControl);

    public static ConversionResult ToInt32(ExtendedReal a, FpuControlWord cw) => ToInteger(a, 32, cw.RoundingControl);

    public static ConversionResult ToInt64(ExtendedReal a, FpuControlWord cw) => ToInteger(a, 64, cw.RoundingControl);

    public static ConversionResult TruncateToInt16(ExtendedReal a) => ToInteger(a, 16, RoundingControl.TowardZero);

    public static ConversionResult TruncateToInt32(ExtendedReal a) => ToInteger(a, 32, RoundingControl.TowardZero);

    public static ConversionResult TruncateToInt64(ExtendedReal a) => ToInteger(a, 64, RoundingControl.TowardZero);

    /// <summary>The integer indefinite of a width: its most negative value.</summary>
    public static ulong Indefinite(int bits) => 1UL << (bits - 1);

    private static ConversionResult ToInteger(ExtendedReal a, int bits, RoundingControl rc)
    {
        var invalid = new ConversionResult(Indefinite(bits), FpuExceptions.Invalid);
        if (a.IsUnsupported || a.IsNaN || a.IsInfinity)
            return invalid;
        if (a.IsZero)
            return new(0, FpuExceptions.None);
        var flags = FpuExceptions.None;
        var x = UnpackedReal.From(a);
        var fractionBits = ExtendedReal.ExponentBias + 63 - x.Exponent;
        if (fractionBits < 0)
            return invalid;
        var (magnitude, inexact, up) = RoundToInteger.ToInteger(x, fractionBits, rc);
        var limit = (UInt128)Indefinite(bits) - (x.Sign ? UInt128.Zero : UInt128.One);
        if (magnitude > limit)
            return invalid;
        if (inexact)
            flags |= FpuExceptions.Precision;
        var value = (ulong)magnitude;
        if (x.Sign)
            value = 0 - value;
        var mask = bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;
        return new(value & mask, flags, up);
    }
}
