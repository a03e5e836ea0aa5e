using System.Numerics;

namespace Sim.Cpu.X87;

/// <summary>
/// Rounds an exact intermediate to a destination's precision and exponent range, with the x87's exception rules
/// (SDM vol. 1, 4.8.4 and 4.9.1.4–4.9.1.6): overflow after rounding, tininess after rounding, denormal results when
/// underflow is masked, and the 24576 bias adjustment of the unmasked responses for register destinations.
/// </summary>
internal static class Rounding
{
    /// <summary>The exponent bias adjustment of an unmasked overflow or underflow with a register destination.</summary>
    public const int BiasAdjust = 24576;

    /// <summary>
    /// Rounds sign × significand × 2^(exponent − 3FFFh − 127), the significand normalized (bit 127 set, so that the
    /// exponent is the biased exponent of the integer bit) with its low bit jammed to stand for anything below it. A
    /// nonzero <paramref name="biasAdjust"/> selects the register destinations' unmasked OE and UE responses.
    /// </summary>
    public static Rounded Round(bool sign, int exponent, UInt128 significand, int precision, int minExponent, int overflowExponent,
        FpuControlWord cw, int biasAdjust)
    {
        var rc = cw.RoundingControl;
        var unit = UInt128.One << (128 - precision);
        var mask = unit - 1;
        var flags = FpuExceptions.None;

        // Tiny when the result rounded to the precision with an unbounded exponent is below the smallest normal.
        var tiny = false;
        if (exponent < minExponent)
        {
            tiny = true;
            if (exponent == minExponent - 1)
            {
                var keptUnbounded = significand & ~mask;
                if (Increments(sign, keptUnbounded, significand & mask, unit, rc) && keptUnbounded + unit == UInt128.Zero)
                    tiny = false;
            }
        }

        var underflowUnmasked = biasAdjust != 0 && !cw.IsMasked(FpuExceptions.Underflow);
        if (tiny && underflowUnmasked)
        {
            exponent += biasAdjust;
            // Only FSCALE reaches this far: beyond the adjusted range the result is a zero whatever RC says.
            if (exponent < minExponent)
                return new(sign, minExponent - 1, 0, FpuExceptions.Underflow | FpuExceptions.Precision, false);
            flags |= FpuExceptions.Underflow;
        }
        else if (tiny)
        {
            significand = ShiftRightJamming(significand, minExponent - exponent);
            exponent = minExponent;
        }

        var kept = significand & ~mask;
        var remainder = significand & mask;
        var inexact = remainder != UInt128.Zero;
        var up = Increments(sign, kept, remainder, unit, rc);
        if (up)
        {
            kept += unit;
            if (kept == UInt128.Zero)
            {
                kept = UInt128.One << 127;
                exponent++;
            }
        }
        if (inexact)
            flags |= tiny ? FpuExceptions.Precision | FpuExceptions.Underflow : FpuExceptions.Precision;
        // For a memory destination an unmasked #U is reported for any tiny result, exact or not.
        if (tiny && biasAdjust == 0 && !cw.IsMasked(FpuExceptions.Underflow))
            flags |= FpuExceptions.Underflow;

        if (exponent >= overflowExponent)
        {
            if (biasAdjust != 0 && !cw.IsMasked(FpuExceptions.Overflow))
            {
                // Only FSCALE reaches this far: beyond the adjusted range the result is an infinity whatever RC says.
                if (exponent - biasAdjust >= overflowExponent)
                    return new(sign, overflowExponent, ExtendedReal.IntegerBit, FpuExceptions.Overflow | FpuExceptions.Precision, true);
                return new(sign, exponent - biasAdjust, (ulong)(kept >> 64), flags | FpuExceptions.Overflow, up);
            }
            return Overflow(sign, precision, overflowExponent, rc, flags);
        }

        var top = (ulong)(kept >> 64);
        if ((top & ExtendedReal.IntegerBit) == 0)
            exponent = minExponent - 1;
        return new(sign, exponent, top, flags, up);
    }

    /// <summary>The masked overflow response: infinity, or the largest finite value when the rounding direction points away from it.</summary>
    public static Rounded Overflow(bool sign, int precision, int overflowExponent, RoundingControl rc, FpuExceptions flags)
    {
        flags |= FpuExceptions.Overflow | FpuExceptions.Precision;
        var toInfinity = rc switch
        {
            RoundingControl.Nearest => true,
            RoundingControl.Up => !sign,
            RoundingControl.Down => sign,
            _ => false,
        };
        if (toInfinity)
            return new(sign, overflowExponent, ExtendedReal.IntegerBit, flags, true);
        return new(sign, overflowExponent - 1, ulong.MaxValue << (64 - precision), flags, false);
    }

    /// <summary>Rounds to an extended-real register destination with the given precision.</summary>
    public static FpuResult ToExtended(bool sign, int exponent, UInt128 significand, int precision, FpuControlWord cw, FpuExceptions flags)
    {
        var r = Round(sign, exponent, significand, precision, 1, ExtendedReal.MaxExponent, cw, BiasAdjust);
        return new(new ExtendedReal(r.Sign, r.Exponent, r.Significand), flags | r.Exceptions, r.RoundedUp);
    }

    /// <summary>As <see cref="ToExtended(bool, int, UInt128, int, FpuControlWord, FpuExceptions)"/> for an operand already unpacked.</summary>
    public static FpuResult ToExtended(in UnpackedReal value, int precision, FpuControlWord cw, FpuExceptions flags) =>
        ToExtended(value.Sign, value.Exponent, (UInt128)value.Significand << 64, precision, cw, flags);

    public static bool Increments(bool sign, UInt128 kept, UInt128 remainder, UInt128 unit, RoundingControl rc)
    {
        if (remainder == UInt128.Zero)
            return false;
        var half = unit >> 1;
        return rc switch
        {
            RoundingControl.Nearest => remainder > half || (remainder == half && (kept & unit) != UInt128.Zero),
            RoundingControl.Up => !sign,
            RoundingControl.Down => sign,
            _ => false,
        };
    }

    public static UInt128 ShiftRightJamming(UInt128 value, int count)
    {
        if (count <= 0)
            return value;
        if (count >= 128)
            return value != UInt128.Zero ? UInt128.One : UInt128.Zero;
        var lost = value << (128 - count);
        return (value >> count) | (lost != UInt128.Zero ? UInt128.One : UInt128.Zero);
    }

    /// <summary>Shifts a nonzero significand so that bit 127 is set, adjusting the exponent to keep the value.</summary>
    public static void Normalize(ref int exponent, ref UInt128 significand)
    {
        var shift = (int)UInt128.LeadingZeroCount(significand);
        significand <<= shift;
        exponent -= shift;
    }

    public static int LeadingZeroCount(ulong value) => BitOperations.LeadingZeroCount(value);
}
