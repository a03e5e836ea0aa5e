namespace Sim.Cpu.X87;

/// <summary>FRNDINT: rounds to an integral value by RC; the precision control does not apply (SDM vol. 2A, FRNDINT).</summary>
public static class RoundToInteger
{
    public static FpuResult Round(ExtendedReal a, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, out var propagated))
            return propagated;
        if (a.IsZero || a.IsInfinity)
            return new(a, FpuExceptions.None);
        var flags = BasicArithmetic.DenormalOperands(a, a);
        var x = UnpackedReal.From(a);
        var fractionBits = ExtendedReal.ExponentBias + 63 - x.Exponent;
        if (fractionBits <= 0)
            return new(a, flags);

        var (integer, inexact, up) = ToInteger(x, fractionBits, cw.RoundingControl);
        if (inexact)
            flags |= FpuExceptions.Precision;
        if (integer == UInt128.Zero)
            return new(BasicArithmetic.Zero(x.Sign), flags, up);
        var exponent = ExtendedReal.ExponentBias + 127;
        Rounding.Normalize(ref exponent, ref integer);
        return new(new ExtendedReal(x.Sign, exponent, (ulong)(integer >> 64)), flags, up);
    }

    /// <summary>
    /// The magnitude of an unpacked value with the given number of fraction bits, rounded to an integer by RC (it can
    /// reach 2^64), with whether that was inexact and whether it rounded up in magnitude.
    /// </summary>
    internal static (UInt128 Integer, bool Inexact, bool Up) ToInteger(in UnpackedReal x, int fractionBits, RoundingControl rc)
    {
        var unit = UInt128.One << 64;
        var fixedPoint = Rounding.ShiftRightJamming((UInt128)x.Significand << 64, fractionBits);
        var kept = fixedPoint & ~(unit - 1);
        var remainder = fixedPoint & (unit - 1);
        var up = Rounding.Increments(x.Sign, kept, remainder, unit, rc);
        if (up)
            kept += unit;
        return (kept >> 64, remainder != UInt128.Zero, up);
    }
}
