namespace Sim.Cpu.X87;

/// <summary>
/// FPREM (quotient truncated, as the 8087 did) and FPREM1 (quotient rounded to nearest-even, the IEEE remainder) of
/// a = ST(0) by b = ST(1). The remainder is exact; when the exponents differ by 64 or more only a partial reduction is
/// done and C2 asks for another pass (SDM vol. 2A, FPREM and FPREM1).
/// </summary>
public static class PartialRemainder
{
    public static PartialRemainderResult Fprem(ExtendedReal a, ExtendedReal b, FpuControlWord cw) => Compute(a, b, cw, nearest: false);

    public static PartialRemainderResult Fprem1(ExtendedReal a, ExtendedReal b, FpuControlWord cw) => Compute(a, b, cw, nearest: true);

    private static PartialRemainderResult Compute(ExtendedReal a, ExtendedReal b, FpuControlWord cw, bool nearest)
    {
        if (NaNPropagation.TryPropagate(a, b, out var propagated))
            return new(propagated.Value, propagated.Exceptions, 0, false);
        if (a.IsInfinity || b.IsZero)
            return new(ExtendedReal.RealIndefinite, FpuExceptions.Invalid, 0, false);
        var flags = BasicArithmetic.DenormalOperands(a, b);
        if (a.IsZero)
            return new(a, flags, 0, false);
        if (b.IsInfinity)
            return Unreduced(a, cw, flags);

        var x = UnpackedReal.From(a);
        var y = UnpackedReal.From(b);
        var difference = x.Exponent - y.Exponent;
        var incomplete = difference >= 64;
        if (incomplete)
        {
            // Reduce by b scaled to leave an exponent difference of 32..63, truncating the quotient.
            difference = 32 + difference % 32;
            nearest = false;
        }
        if (difference < (nearest ? -1 : 0))
            return Unreduced(a, cw, flags);

        UInt128 dividend;
        UInt128 divisor;
        int unitExponent;
        if (difference >= 0)
        {
            dividend = (UInt128)x.Significand << difference;
            divisor = y.Significand;
            unitExponent = x.Exponent - difference;
        }
        else
        {
            dividend = x.Significand;
            divisor = (UInt128)y.Significand << 1;
            unitExponent = x.Exponent;
        }
        var quotient = dividend / divisor;
        var remainder = dividend % divisor;
        var sign = x.Sign;
        if (nearest)
        {
            var twice = remainder << 1;
            if (twice > divisor || (twice == divisor && (quotient & 1) != 0))
            {
                remainder = divisor - remainder;
                quotient++;
                sign = !sign;
            }
        }
        // A partial reduction leaves the quotient bits clear.
        var q = incomplete ? 0 : (int)(quotient & 7);
        if (remainder == UInt128.Zero)
            return new(BasicArithmetic.Zero(x.Sign), flags, q, incomplete);
        // The remainder is a multiple of the unit, the unit being the weight of the shifted dividend's bit 0.
        var exponent = unitExponent + 64;
        Rounding.Normalize(ref exponent, ref remainder);
        var r = Rounding.ToExtended(sign, exponent, remainder, 64, cw, flags);
        return new(r.Value, r.Exceptions, q, incomplete);
    }

    /// <summary>A dividend smaller than the divisor comes back as it is, except that a pseudo-denormal comes back normalized.</summary>
    private static PartialRemainderResult Unreduced(ExtendedReal a, FpuControlWord cw, FpuExceptions flags)
    {
        var r = Rounding.ToExtended(UnpackedReal.From(a), 64, cw, flags);
        return new(r.Value, r.Exceptions, 0, false);
    }
}
