namespace Sim.Cpu.X87;

/// <summary>
/// FADD, FSUB, FMUL, FDIV and FSQRT on extended reals (SDM vol. 1, 8.3.5): exactly rounded by the control word's RC and
/// PC, with the masked responses of table 4-7 and 8.5. The operands are register values, so loads are not repeated here.
/// </summary>
public static class BasicArithmetic
{
    public static FpuResult Add(ExtendedReal a, ExtendedReal b, FpuControlWord cw) =>
        NormalArithmetic.TryAdd(a, b, b.Sign, cw, out var r) ? r : GeneralAdd(a, b, b.Sign, cw);

    /// <summary>a − b.</summary>
    public static FpuResult Subtract(ExtendedReal a, ExtendedReal b, FpuControlWord cw) =>
        NormalArithmetic.TryAdd(a, b, !b.Sign, cw, out var r) ? r : GeneralAdd(a, b, !b.Sign, cw);

    public static FpuResult Multiply(ExtendedReal a, ExtendedReal b, FpuControlWord cw) =>
        NormalArithmetic.TryMultiply(a, b, cw, out var r) ? r : GeneralMultiply(a, b, cw);

    /// <summary>a ÷ b.</summary>
    public static FpuResult Divide(ExtendedReal a, ExtendedReal b, FpuControlWord cw) =>
        NormalArithmetic.TryDivide(a, b, cw, out var r) ? r : GeneralDivide(a, b, cw);

    /// <summary>a × b for any operands, without the fast path of <see cref="NormalArithmetic"/>.</summary>
    internal static FpuResult GeneralMultiply(ExtendedReal a, ExtendedReal b, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, b, out var propagated))
            return propagated;
        var flags = DenormalOperands(a, b);
        var sign = a.Sign != b.Sign;
        if (a.IsInfinity || b.IsInfinity)
        {
            if (a.IsZero || b.IsZero)
                return FpuResult.Invalid;
            return new(Infinity(sign), flags);
        }
        if (a.IsZero || b.IsZero)
            return new(Zero(sign), flags);

        var x = UnpackedReal.From(a);
        var y = UnpackedReal.From(b);
        var product = (UInt128)x.Significand * y.Significand;
        var exponent = x.Exponent + y.Exponent - ExtendedReal.ExponentBias + 1;
        Rounding.Normalize(ref exponent, ref product);
        return Rounding.ToExtended(sign, exponent, product, cw.PrecisionBits, cw, flags);
    }

    /// <summary>a ÷ b for any operands, without the fast path of <see cref="NormalArithmetic"/>.</summary>
    internal static FpuResult GeneralDivide(ExtendedReal a, ExtendedReal b, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, b, out var propagated))
            return propagated;
        var flags = DenormalOperands(a, b);
        var sign = a.Sign != b.Sign;
        if (a.IsInfinity)
            return b.IsInfinity ? FpuResult.Invalid : new(Infinity(sign), flags);
        if (b.IsInfinity)
            return new(Zero(sign), flags);
        if (b.IsZero)
            // The hardware reports #Z alone, even for a denormal dividend.
            return a.IsZero ? FpuResult.Invalid : new(Infinity(sign), FpuExceptions.ZeroDivide);
        if (a.IsZero)
            return new(Zero(sign), flags);

        var x = UnpackedReal.From(a);
        var y = UnpackedReal.From(b);
        var (quotient, exponent) = DivideSignificands(x.Significand, y.Significand);
        exponent += x.Exponent - y.Exponent + ExtendedReal.ExponentBias;
        return Rounding.ToExtended(sign, exponent, quotient, cw.PrecisionBits, cw, flags);
    }

    public static FpuResult SquareRoot(ExtendedReal a, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, out var propagated))
            return propagated;
        if (a.IsZero)
            return new(a, FpuExceptions.None);
        if (a.Sign)
            return FpuResult.Invalid;
        if (a.IsInfinity)
            return new(a, FpuExceptions.None);

        var flags = DenormalOperands(a, a);
        var x = UnpackedReal.From(a);
        var unbiased = x.Exponent - ExtendedReal.ExponentBias;
        // Scale the significand so that the root has 67 bits (a rounding bit and a spare beyond 64) and the scaled
        // exponent is even.
        var scale = (unbiased & 1) == 0 ? 69 : 70;
        var (root, exact) = SquareRootOfScaled(x.Significand, scale);
        var significand = (root << 61) | (exact ? UInt128.Zero : UInt128.One);
        var exponent = (unbiased - 63 - scale) / 2 + 66 + ExtendedReal.ExponentBias;
        return Rounding.ToExtended(false, exponent, significand, cw.PrecisionBits, cw, flags);
    }

    /// <summary>a + b with b's sign replaced by <paramref name="bSign"/>, for any operands, without the fast path of <see cref="NormalArithmetic"/>.</summary>
    internal static FpuResult GeneralAdd(ExtendedReal a, ExtendedReal b, bool bSign, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, b, out var propagated))
            return propagated;
        var flags = DenormalOperands(a, b);
        if (a.IsInfinity)
            return b.IsInfinity && a.Sign != bSign ? FpuResult.Invalid : new(a, flags);
        if (b.IsInfinity)
            return new(Infinity(bSign), flags);
        var exactZeroSign = cw.RoundingControl == RoundingControl.Down;
        if (a.IsZero && b.IsZero)
            return new(Zero(a.Sign == bSign ? a.Sign : exactZeroSign), flags);
        if (b.IsZero)
            return Rounding.ToExtended(UnpackedReal.From(a), cw.PrecisionBits, cw, flags);
        if (a.IsZero)
            return Rounding.ToExtended(UnpackedReal.From(b, bSign), cw.PrecisionBits, cw, flags);

        var x = UnpackedReal.From(a);
        var y = UnpackedReal.From(b, bSign);
        if (x.Exponent < y.Exponent || (x.Exponent == y.Exponent && x.Significand < y.Significand))
            (x, y) = (y, x);
        // One bit of headroom above the integer bit takes the carry of a sum.
        var larger = (UInt128)x.Significand << 63;
        var smaller = Rounding.ShiftRightJamming((UInt128)y.Significand << 63, x.Exponent - y.Exponent);
        var sum = x.Sign == y.Sign ? larger + smaller : larger - smaller;
        if (sum == UInt128.Zero)
            return new(Zero(exactZeroSign), flags);
        var exponent = x.Exponent + 1;
        Rounding.Normalize(ref exponent, ref sum);
        return Rounding.ToExtended(x.Sign, exponent, sum, cw.PrecisionBits, cw, flags);
    }

    internal static FpuExceptions DenormalOperands(ExtendedReal a, ExtendedReal b) =>
        a.IsDenormal || b.IsDenormal ? FpuExceptions.Denormal : FpuExceptions.None;

    /// <summary>
    /// 2^128 × a ÷ b for normalized significands, normalized to bit 127 with the remainder jammed into bit 0, and the
    /// exponent adjustment (−1 or 0) the normalization implies.
    /// </summary>
    internal static (UInt128 Quotient, int Exponent) DivideSignificands(ulong a, ulong b)
    {
        var dividend = (UInt128)a << 64;
        var high = dividend / b;
        var remainder = (ulong)(dividend % b);
        dividend = (UInt128)remainder << 64;
        var low = (ulong)(dividend / b);
        var sticky = dividend % b != UInt128.Zero;
        if (high >> 64 == UInt128.Zero)
            return (((high << 64) | low) | (sticky ? UInt128.One : UInt128.Zero), -1);
        var quotient = (high << 63) | (low >> 1);
        var jam = (low & 1) != 0 || sticky;
        return (quotient | (jam ? UInt128.One : UInt128.Zero), 0);
    }

    /// <summary>The integer square root of significand × 2^scale, bit-serially, and whether it is exact.</summary>
    private static (UInt128 Root, bool Exact) SquareRootOfScaled(ulong significand, int scale)
    {
        var remainder = UInt128.Zero;
        var root = UInt128.Zero;
        var topPair = (64 + scale + 1) / 2 - 1;
        for (var pair = topPair; pair >= 0; pair--)
        {
            var digits = (Bit(significand, scale, 2 * pair + 1) << 1) | Bit(significand, scale, 2 * pair);
            remainder = (remainder << 2) | digits;
            var trial = (root << 2) | UInt128.One;
            if (remainder >= trial)
            {
                remainder -= trial;
                root = (root << 1) | UInt128.One;
            }
            else
            {
                root <<= 1;
            }
        }
        return (root, remainder == UInt128.Zero);
    }

    private static uint Bit(ulong significand, int scale, int position) =>
        position < scale || position - scale >= 64 ? 0u : (uint)(significand >> (position - scale)) & 1;

    internal static ExtendedReal Zero(bool sign) => sign ? ExtendedReal.NegativeZero : ExtendedReal.PositiveZero;

    internal static ExtendedReal Infinity(bool sign) => sign ? ExtendedReal.NegativeInfinity : ExtendedReal.PositiveInfinity;
}
