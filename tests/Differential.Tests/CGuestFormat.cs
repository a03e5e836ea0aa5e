using System.Globalization;

namespace Sim.Differential.Tests;

/// <summary>
/// The C guests' way of printing a floating-point value (Images/Guests/C/runtime/runtime.c): the
/// bit pattern in hex, a space, then the value in fixed point with six fractional digits, truncated
/// ("&gt;=2^k" from 2^64 on), so that expected lines can be written from values computed here.
/// </summary>
public static class CGuestFormat
{
    public static string F32(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var exponent = (int)(bits >> 23) & 0xFF;
        var fraction = bits & 0x7FFFFF;
        var text = exponent == 0 ? Scaled(bits >> 31 != 0, fraction, -149) : Scaled(bits >> 31 != 0, fraction | 0x800000, exponent - 150);
        return $"{bits:x8} {text}";
    }

    public static string F64(double value)
    {
        var bits = BitConverter.DoubleToUInt64Bits(value);
        var exponent = (int)(bits >> 52) & 0x7FF;
        var fraction = bits & 0xFFFFFFFFFFFFFUL;
        var text = exponent == 0 ? Scaled(bits >> 63 != 0, fraction, -1074) : Scaled(bits >> 63 != 0, fraction | 1UL << 52, exponent - 1075);
        return $"{bits:x16} {text}";
    }

    /// <summary>An 80-bit extended value given by its sign-and-exponent word and its significand.</summary>
    public static string F80(ushort signExponent, ulong significand)
    {
        var exponent = signExponent & 0x7FFF;
        return $"{signExponent:x4}:{significand:x16} {Scaled(signExponent >> 15 != 0, significand, (exponent == 0 ? 1 : exponent) - 16383 - 63)}";
    }

    public static string Hex(ulong value, int digits) => value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Scaled(bool negative, ulong significand, int exponent)
    {
        var sign = negative ? "-" : "";
        ulong integer, fraction;
        if (significand == 0)
        {
            integer = fraction = 0;
        }
        else if (exponent >= 0)
        {
            var bits = 64 - System.Numerics.BitOperations.LeadingZeroCount(significand);
            if (bits + exponent > 64) return $"{sign}>=2^{bits - 1 + exponent}";
            integer = significand << exponent;
            fraction = 0;
        }
        else
        {
            var shift = -exponent;
            var fixedPoint = shift >= 128 ? UInt128.Zero : ((UInt128)significand << 64) >> shift;
            integer = (ulong)(fixedPoint >> 64);
            fraction = (ulong)fixedPoint;
        }
        var digits = new char[6];
        for (var i = 0; i < 6; i++)
        {
            var t = (UInt128)fraction * 10;
            digits[i] = (char)('0' + (int)(t >> 64));
            fraction = (ulong)t;
        }
        return $"{sign}{integer.ToString(CultureInfo.InvariantCulture)}.{new string(digits)}";
    }
}
