using System.Numerics;
using System.Runtime.CompilerServices;

namespace Sim.Cpu.X87;

/// <summary>
/// The fast path of FADD, FSUB, FMUL and FDIV (SDM vol. 1, 8.3.5) for the common cases: two normal operands (biased
/// exponent 1–7FFEh, integer bit set) whose result, rounded by the control word's RC and PC, is normal and finite; for
/// FADD, FSUB and FMUL also a zero operand with a normal or zero one; for FDIV a zero dividend and a normal divisor. It
/// computes exactly what <see cref="BasicArithmetic"/> and <see cref="Rounding.Round"/> compute, without their case
/// analysis of NaNs, infinities, denormals, tininess and overflow, none of which can arise here; anything else gives
/// false, and the caller takes the general path.
/// </summary>
internal static class NormalArithmetic
{
    /// <summary>
    /// The operation of an x87 arithmetic form (the <c>X87Sub</c> operation: 0 add, 1 multiply, 4 subtract, 5 reverse
    /// subtract, 6 divide, 7 reverse divide) of destination operand a and source operand b.
    /// </summary>
    public static bool TryCompute(int operation, ExtendedReal a, ExtendedReal b, FpuControlWord cw, out FpuResult result) =>
        operation switch
        {
            0 => TryAdd(a, b, b.Sign, cw, out result),
            1 => TryMultiply(a, b, cw, out result),
            4 => TryAdd(a, b, !b.Sign, cw, out result),
            5 => TryAdd(b, a, !a.Sign, cw, out result),
            6 => TryDivide(a, b, cw, out result),
            _ => TryDivide(b, a, cw, out result),
        };

    /// <summary>Whether <paramref name="value"/> is normal: exponent 1–7FFEh and the integer bit set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsNormal(ExtendedReal value) =>
        (uint)(value.Exponent - 1) < ExtendedReal.MaxExponent - 1 && (long)value.Significand < 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsZero(ExtendedReal value) => (value.SignExponent & ExtendedReal.MaxExponent) == 0 && value.Significand == 0;

    /// <summary>a + b with b's sign replaced by <paramref name="bSign"/> (so that a − b is a + (−b)).</summary>
    public static bool TryAdd(ExtendedReal a, ExtendedReal b, bool bSign, FpuControlWord cw, out FpuResult result)
    {
        if (!IsNormal(a) || !IsNormal(b))
            return TryAddZero(a, b, bSign, cw, out result);
        bool sign = a.Sign;
        int ea = a.Exponent, eb = b.Exponent;
        ulong sa = a.Significand, sb = b.Significand;
        if (ea < eb || (ea == eb && sa < sb))
        {
            (ea, eb) = (eb, ea);
            (sa, sb) = (sb, sa);
            sign = bSign;
        }
        // As BasicArithmetic, in two 64-bit words: the significands at bits 126:63 (one bit of headroom for a carry),
        // the smaller shifted right by the exponent difference with everything shifted out jammed into bit 0.
        var largerHigh = sa >> 1;
        var largerLow = sa << 63;
        var smallerHigh = sb >> 1;
        var smallerLow = sb << 63;
        var distance = ea - eb;
        if (distance != 0)
        {
            bool lost;
            if (distance < 64)
            {
                lost = smallerLow << (64 - distance) != 0;
                smallerLow = (smallerLow >> distance) | (smallerHigh << (64 - distance));
                smallerHigh >>= distance;
            }
            else if (distance < 128)
            {
                lost = smallerLow != 0 || (distance > 64 && smallerHigh << (128 - distance) != 0);
                smallerLow = smallerHigh >> (distance - 64);
                smallerHigh = 0;
            }
            else
            {
                lost = true;
                smallerLow = smallerHigh = 0;
            }
            if (lost) smallerLow |= 1;
        }
        ulong high, low;
        if (a.Sign == bSign)
        {
            low = largerLow + smallerLow;
            high = largerHigh + smallerHigh + (low < largerLow ? 1UL : 0);
        }
        else
        {
            low = largerLow - smallerLow;
            high = largerHigh - smallerHigh - (largerLow < smallerLow ? 1UL : 0);
        }
        if ((high | low) == 0)
        {
            // An exact zero: +0, or −0 when rounding down (SDM vol. 1, 4.8.3.3).
            result = new(BasicArithmetic.Zero(cw.RoundingControl == RoundingControl.Down), FpuExceptions.None);
            return true;
        }
        var exponent = ea + 1;
        if (high == 0)
        {
            high = low;
            low = 0;
            exponent -= 64;
        }
        var shift = BitOperations.LeadingZeroCount(high);
        if (shift != 0)
        {
            high = (high << shift) | (low >> (64 - shift));
            low <<= shift;
            exponent -= shift;
        }
        return TryRound(sign, exponent, high, low, cw, out result);
    }

    public static bool TryMultiply(ExtendedReal a, ExtendedReal b, FpuControlWord cw, out FpuResult result)
    {
        if (!IsNormal(a) || !IsNormal(b))
        {
            // A zero times a normal or a zero: the signed zero, exactly (no #D, as neither is a denormal).
            if ((IsZero(a) && (IsZero(b) || IsNormal(b))) || (IsZero(b) && IsNormal(a)))
            {
                result = new(BasicArithmetic.Zero(a.Sign != b.Sign), FpuExceptions.None);
                return true;
            }
            result = default;
            return false;
        }
        var high = Math.BigMul(a.Significand, b.Significand, out var low);
        var exponent = a.Exponent + b.Exponent - ExtendedReal.ExponentBias + 1;
        // Both integer bits set: the product has bit 127 or bit 126 set.
        if ((long)high >= 0)
        {
            high = (high << 1) | (low >> 63);
            low <<= 1;
            exponent--;
        }
        return TryRound(a.Sign != b.Sign, exponent, high, low, cw, out result);
    }

    /// <summary>
    /// a + b where one of them is not normal: two zeros give the zero of the rule for sums (SDM vol. 1, 4.8.3.3), a zero
    /// and a normal give the normal rounded to the precision, as <see cref="BasicArithmetic.GeneralAdd"/> has it.
    /// </summary>
    private static bool TryAddZero(ExtendedReal a, ExtendedReal b, bool bSign, FpuControlWord cw, out FpuResult result)
    {
        if (IsZero(b))
        {
            if (IsZero(a))
            {
                result = new(BasicArithmetic.Zero(a.Sign == bSign ? a.Sign : cw.RoundingControl == RoundingControl.Down), FpuExceptions.None);
                return true;
            }
            if (IsNormal(a))
                return TryRound(a.Sign, a.Exponent, a.Significand, 0, cw, out result);
        }
        else if (IsZero(a) && IsNormal(b))
        {
            return TryRound(bSign, b.Exponent, b.Significand, 0, cw, out result);
        }
        result = default;
        return false;
    }

    /// <summary>a ÷ b.</summary>
    public static bool TryDivide(ExtendedReal a, ExtendedReal b, FpuControlWord cw, out FpuResult result)
    {
        if (!IsNormal(a) || !IsNormal(b))
        {
            // A zero divided by a normal: the signed zero, exactly.
            if (IsZero(a) && IsNormal(b))
            {
                result = new(BasicArithmetic.Zero(a.Sign != b.Sign), FpuExceptions.None);
                return true;
            }
            result = default;
            return false;
        }
        var (quotient, exponent) = BasicArithmetic.DivideSignificands(a.Significand, b.Significand);
        exponent += a.Exponent - b.Exponent + ExtendedReal.ExponentBias;
        return TryRound(a.Sign != b.Sign, exponent, (ulong)(quotient >> 64), (ulong)quotient, cw, out result);
    }

    /// <summary>
    /// <see cref="Rounding.Round"/> for a register destination, restricted to an intermediate sign × high:low × 2^(exponent
    /// − 3FFFh − 127) (bit 63 of <paramref name="high"/> set) that is not tiny and does not overflow after rounding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryRound(bool sign, int exponent, ulong high, ulong low, FpuControlWord cw, out FpuResult result)
    {
        if (exponent < 1)
        {
            result = default;
            return false;
        }
        var significand = RoundSignificand(sign, ref exponent, high, low, cw.PrecisionBits, cw.RoundingControl, out var inexact, out var up);
        if (exponent >= ExtendedReal.MaxExponent)
        {
            result = default;
            return false;
        }
        result = new(new ExtendedReal(sign, exponent, significand), inexact ? FpuExceptions.Precision : FpuExceptions.None, up);
        return true;
    }

    /// <summary>
    /// Rounds high:low (bit 63 of <paramref name="high"/> set) to <paramref name="precision"/> bits (at most 64) by
    /// <paramref name="rc"/>, as <see cref="Rounding.Increments"/> decides on the 128-bit value; a carry out of the
    /// significand increments <paramref name="exponent"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong RoundSignificand(bool sign, ref int exponent, ulong high, ulong low, int precision, RoundingControl rc,
        out bool inexact, out bool up)
    {
        var unit = 1UL << (64 - precision);
        var mask = unit - 1;
        var kept = high & ~mask;
        var remainderHigh = high & mask;
        inexact = (remainderHigh | low) != 0;
        if (!inexact)
        {
            up = false;
            return kept;
        }
        switch (rc)
        {
            case RoundingControl.Nearest:
            {
                // Half a unit: bit 63 of the low word for 64-bit precision, else the bit below the unit in the high word.
                var halfHigh = unit >> 1;
                var halfLow = (unit & 1) << 63;
                up = remainderHigh > halfHigh || (remainderHigh == halfHigh && (low > halfLow || (low == halfLow && (kept & unit) != 0)));
                break;
            }
            case RoundingControl.Up: up = !sign; break;
            case RoundingControl.Down: up = sign; break;
            default: up = false; break;
        }
        if (up)
        {
            kept += unit;
            if (kept == 0)
            {
                kept = ExtendedReal.IntegerBit;
                exponent++;
            }
        }
        return kept;
    }
}
