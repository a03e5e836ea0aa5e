namespace Sim.Cpu.X87;

/// <summary>
/// FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X and FYL2XP1 (SDM vol. 2A): computed in <see cref="WideReal"/>
/// (about 120 good bits) with an exact argument reduction by π/2, and rounded once by RC to 64 bits, so that a result is
/// the correctly rounded value except in the rarest of cases and always within one ulp of it. Hardware is not correctly
/// rounded here, so results may differ from a particular processor's by an ulp. The precision control does not apply.
/// </summary>
public static class Transcendental
{
    /// <summary>A series stops after the first term this many bits below the sum, which it still adds: its sign tells the rounding which way the rest lies.</summary>
    private const int SeriesPrecision = 132;

    /// <summary>FSIN, FCOS and FPTAN leave an operand of magnitude 2^63 or more alone and set C2.</summary>
    public static bool OutOfRange(ExtendedReal x) =>
        !x.IsNaN && !x.IsInfinity && !x.IsUnsupported && !x.IsZero && x.Exponent >= ExtendedReal.ExponentBias + 63;

    public static FpuResult Sine(ExtendedReal x, FpuControlWord cw)
    {
        if (TrySpecialTrigonometric(x, out var special)) return special;
        if (x.IsZero) return new(x, FpuExceptions.None);
        var (sin, cos, quadrant) = SineAndCosine(x);
        return Select(quadrant, sin, cos, x.Sign).ToExtended(cw, Denormal(x));
    }

    public static FpuResult Cosine(ExtendedReal x, FpuControlWord cw)
    {
        if (TrySpecialTrigonometric(x, out var special)) return special;
        if (x.IsZero) return new(ExtendedReal.One, FpuExceptions.None);
        var (sin, cos, quadrant) = SineAndCosine(x);
        return Select(quadrant + 1, sin, cos, false).ToExtended(cw, Denormal(x));
    }

    /// <summary>FPTAN's tangent (1.0 is pushed after it by the caller).</summary>
    public static FpuResult Tangent(ExtendedReal x, FpuControlWord cw)
    {
        if (TrySpecialTrigonometric(x, out var special)) return special;
        if (x.IsZero) return new(x, FpuExceptions.None);
        var (sin, cos, quadrant) = SineAndCosine(x);
        var tangent = (quadrant & 1) == 0 ? sin / cos : (cos / sin).Negate();
        return (x.Sign ? tangent.Negate() : tangent).ToExtended(cw, Denormal(x));
    }

    /// <summary>FPATAN: the angle of (x, y) in (−π, π], y = ST(1) and x = ST(0).</summary>
    public static FpuResult Arctangent(ExtendedReal y, ExtendedReal x, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(y, x, out var propagated)) return propagated;
        var flags = BasicArithmetic.DenormalOperands(y, x);
        WideReal angle;
        if (y.IsZero)
        {
            if (!x.Sign) return new(y, flags);
            angle = WideConstants.Pi;
        }
        else if (y.IsInfinity)
        {
            angle = x.IsInfinity ? (x.Sign ? WideConstants.QuarterPi * WideReal.FromInteger(3) : WideConstants.QuarterPi) : WideConstants.HalfPi;
        }
        else if (x.IsInfinity)
        {
            if (!x.Sign) return new(BasicArithmetic.Zero(y.Sign), flags);
            angle = WideConstants.Pi;
        }
        else if (x.IsZero)
        {
            angle = WideConstants.HalfPi;
        }
        else
        {
            var a = WideReal.From(y).Abs();
            var b = WideReal.From(x).Abs();
            angle = WideReal.CompareMagnitude(a, b) <= 0 ? ArctangentOfRatio(a / b) : WideConstants.HalfPi - ArctangentOfRatio(b / a);
            if (x.Sign) angle = WideConstants.Pi - angle;
        }
        return (y.Sign ? angle.Negate() : angle).ToExtended(cw, flags);
    }

    /// <summary>F2XM1: 2^x − 1 for −1 ≤ x ≤ 1; the SDM leaves other operands undefined: they are returned unchanged with #P, as the hardware does.</summary>
    public static FpuResult TwoToXMinus1(ExtendedReal x, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(x, out var propagated)) return propagated;
        if (x.IsZero) return new(x, FpuExceptions.None);
        if (x.IsInfinity) return new(x.Sign ? ExtendedReal.One.Negate() : x, FpuExceptions.None);
        var flags = Denormal(x);
        var value = WideReal.From(x);
        var magnitude = WideReal.CompareMagnitude(value, WideReal.One);
        if (magnitude > 0) return new(x, flags | FpuExceptions.Precision);
        // 2^1 − 1 and 2^-1 − 1 are exact; the hardware still reports #P for them.
        if (magnitude == 0) return new(x.Sign ? new ExtendedReal(true, ExtendedReal.ExponentBias - 1, ExtendedReal.IntegerBit) : x, FpuExceptions.Precision);
        return ExponentialMinus1(value * WideConstants.Ln2).ToExtended(cw, flags);
    }

    /// <summary>FYL2X: y · log2(x), y = ST(1) and x = ST(0).</summary>
    public static FpuResult YLog2X(ExtendedReal y, ExtendedReal x, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(y, x, out var propagated)) return propagated;
        var flags = BasicArithmetic.DenormalOperands(y, x);
        if (x.Sign && !x.IsZero) return FpuResult.Invalid;
        if (x.IsZero)
        {
            if (y.IsZero) return FpuResult.Invalid;
            // log2(0) = −∞: a finite y divides by zero.
            return new(BasicArithmetic.Infinity(!y.Sign), y.IsInfinity ? flags : FpuExceptions.ZeroDivide);
        }
        if (x.IsInfinity)
        {
            if (y.IsZero) return FpuResult.Invalid;
            return new(BasicArithmetic.Infinity(y.Sign), flags);
        }
        var value = WideReal.From(x);
        var exactPower = value.Significand == UInt128.One << 127;
        if (y.IsInfinity)
        {
            if (exactPower && value.Exponent == 0) return FpuResult.Invalid;
            return new(BasicArithmetic.Infinity(y.Sign != (value.Exponent < 0)), flags);
        }
        if (exactPower)
        {
            // log2 of a power of two is an integer: the product is rounded once, as a multiplication.
            var product = BasicArithmetic.Multiply(y, IntegerConversion.FromInt64(value.Exponent), cw);
            return product with { Exceptions = product.Exceptions | flags };
        }
        if (y.IsZero) return new(BasicArithmetic.Zero(y.Sign != (value.Exponent < 0)), flags);
        return (WideReal.From(y) * Log2(value)).ToExtended(cw, flags);
    }

    /// <summary>FYL2XP1: y · log2(x + 1), y = ST(1) and x = ST(0), exact for small x where x + 1 would round.</summary>
    public static FpuResult YLog2XPlus1(ExtendedReal y, ExtendedReal x, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(y, x, out var propagated)) return propagated;
        var flags = BasicArithmetic.DenormalOperands(y, x);
        if (x.IsInfinity)
        {
            if (x.Sign || y.IsZero) return FpuResult.Invalid;
            return new(BasicArithmetic.Infinity(y.Sign), flags);
        }
        if (x.IsZero)
        {
            if (y.IsInfinity) return FpuResult.Invalid;
            return new(BasicArithmetic.Zero(x.Sign != y.Sign), flags);
        }
        var value = WideReal.From(x);
        var sum = value + WideReal.One;
        if (x.Sign && WideReal.CompareMagnitude(value, WideReal.One) >= 0)
        {
            if (WideReal.CompareMagnitude(value, WideReal.One) > 0 || y.IsZero) return FpuResult.Invalid;
            return new(BasicArithmetic.Infinity(!y.Sign), y.IsInfinity ? flags : FpuExceptions.ZeroDivide);
        }
        if (y.IsInfinity) return new(BasicArithmetic.Infinity(y.Sign != x.Sign), flags);
        if (y.IsZero) return new(BasicArithmetic.Zero(y.Sign != x.Sign), flags);
        // ln(1 + x) = 2 atanh(x / (2 + x)) keeps full precision for x near 0.
        var logarithm = value.Exponent < -2
            ? Atanh(value / (value + WideReal.FromInteger(2))).Scale(1) * WideConstants.Log2E
            : Log2(sum);
        return (WideReal.From(y) * logarithm).ToExtended(cw, flags);
    }

    /// <summary>NaN, unsupported and infinite operands of FSIN, FCOS, FSINCOS and FPTAN.</summary>
    private static bool TrySpecialTrigonometric(ExtendedReal x, out FpuResult result)
    {
        if (NaNPropagation.TryPropagate(x, out result)) return true;
        if (x.IsInfinity)
        {
            result = FpuResult.Invalid;
            return true;
        }
        return false;
    }

    private static FpuExceptions Denormal(ExtendedReal x) => x.IsDenormal ? FpuExceptions.Denormal : FpuExceptions.None;

    /// <summary>sin(x) for quadrant q of the reduced argument, its sign flipped for a negative x.</summary>
    private static WideReal Select(int quadrant, WideReal sin, WideReal cos, bool negative)
    {
        var value = (quadrant & 3) switch
        {
            0 => sin,
            1 => cos,
            2 => sin.Negate(),
            _ => cos.Negate(),
        };
        return negative ? value.Negate() : value;
    }

    /// <summary>sin and cos of r = |x| − q·π/2 with |r| ≤ π/4, and q.</summary>
    private static (WideReal Sin, WideReal Cos, int Quadrant) SineAndCosine(ExtendedReal x)
    {
        var (r, quadrant) = Reduce(x.Abs());
        var r2 = r * r;
        var sin = r;
        var term = r;
        for (uint k = 1; ; k++)
        {
            term = (term * r2).DivideBy((2 * k) * (2 * k + 1)).Negate();
            sin += term;
            if (term.IsZero || term.Exponent < sin.Exponent - SeriesPrecision) break;
        }
        var cos = WideReal.One;
        term = WideReal.One;
        for (uint k = 1; ; k++)
        {
            term = (term * r2).DivideBy((2 * k - 1) * (2 * k)).Negate();
            cos += term;
            if (term.IsZero || term.Exponent < cos.Exponent - SeriesPrecision) break;
        }
        return (sin, cos, quadrant);
    }

    /// <summary>
    /// Payne–Hanek reduction of 0 &lt; a &lt; 2^63: a · 2/π with 2/π to 2^-384, its integer part mod 4 the quadrant and its
    /// fraction, taken to the nearer integer, times π/2 the reduced argument.
    /// </summary>
    private static (WideReal Reduced, int Quadrant) Reduce(ExtendedReal a)
    {
        var value = WideReal.From(a);
        if (WideReal.CompareMagnitude(value, WideConstants.QuarterPi) <= 0) return (value, 0);
        var x = UnpackedReal.From(a);
        var significand = x.Significand;
        // a = significand × 2^e with −64 ≤ e ≤ −1 here.
        var e = x.Exponent - ExtendedReal.ExponentBias - 63;
        Span<ulong> product = stackalloc ulong[7];
        var twoOverPi = WideConstants.TwoOverPi;
        ulong carry = 0;
        for (var i = 5; i >= 0; i--)
        {
            var p = (UInt128)significand * twoOverPi[i] + carry;
            product[i + 1] = (ulong)p;
            carry = (ulong)(p >> 64);
        }
        product[0] = carry;
        // product × 2^(e − 384): the binary point lies 384 − e bits above bit 0.
        var pointBits = 384 - e;
        var integer = (int)(ExtractBits(product, pointBits, 2) & 3);
        var roundUp = ExtractBits(product, pointBits - 1, 1) != 0;
        if (roundUp)
        {
            integer++;
            Negate(product);
        }
        // The fraction (or one minus it) as a 128-bit window from its leading bit.
        var lead = pointBits - 1;
        while (lead >= 0 && ExtractBits(product, lead, 1) == 0) lead--;
        if (lead < 0) return (WideReal.Zero, integer & 3);
        var window = ((UInt128)ExtractBits(product, lead - 63, 64) << 64) | ExtractBits(product, lead - 127, 64);
        var fraction = new WideReal(roundUp, lead - pointBits, window);
        return (fraction * WideConstants.HalfPi, integer & 3);
    }

    /// <summary><paramref name="count"/> (≤ 64) bits of a 448-bit number (seven words, most significant first) from bit <paramref name="low"/> up; bits below 0 read as 0.</summary>
    private static ulong ExtractBits(ReadOnlySpan<ulong> number, int low, int count)
    {
        ulong result = 0;
        for (var i = count - 1; i >= 0; i--)
        {
            var bit = low + i;
            var word = bit < 0 || bit >= 448 ? 0 : (number[6 - bit / 64] >> (bit % 64)) & 1;
            result = (result << 1) | word;
        }
        return result;
    }

    /// <summary>Two's complement of the fraction below the binary point only matters, so the whole number is negated.</summary>
    private static void Negate(Span<ulong> number)
    {
        var carry = 1UL;
        for (var i = number.Length - 1; i >= 0; i--)
        {
            var v = ~number[i] + carry;
            carry = carry != 0 && v == 0 ? 1UL : 0UL;
            number[i] = v;
        }
    }

    /// <summary>atan(t) for 0 ≤ t ≤ 1: above tan(π/8), π/4 + atan((t − 1)/(t + 1)), so that the series runs on |t| ≤ 0.42.</summary>
    private static WideReal ArctangentOfRatio(WideReal t)
    {
        // tan(π/8) = √2 − 1 ≈ 0.4142.
        if (t.Exponent >= -1 && WideReal.CompareMagnitude(t, TanEighthPi) > 0)
            return WideConstants.QuarterPi + ArctangentSeries((t - WideReal.One) / (t + WideReal.One));
        return ArctangentSeries(t);
    }

    private static readonly WideReal TanEighthPi = new(false, -2, (UInt128)0xD413CCCFE7799211UL << 64 | 0x65F626CDD52AFA7CUL);

    private static WideReal ArctangentSeries(WideReal t)
    {
        if (t.IsZero) return t;
        var t2 = t * t;
        var sum = t;
        var power = t;
        for (uint k = 1; ; k++)
        {
            power = (power * t2).Negate();
            var term = power.DivideBy(2 * k + 1);
            sum += term;
            if (term.IsZero || term.Exponent < sum.Exponent - SeriesPrecision) break;
        }
        return sum;
    }

    /// <summary>atanh(s) = s + s³/3 + s⁵/5 + … for |s| ≤ 1/3.</summary>
    private static WideReal Atanh(WideReal s)
    {
        if (s.IsZero) return s;
        var s2 = s * s;
        var sum = s;
        var power = s;
        for (uint k = 1; ; k++)
        {
            power *= s2;
            var term = power.DivideBy(2 * k + 1);
            sum += term;
            if (term.IsZero || term.Exponent < sum.Exponent - SeriesPrecision) break;
        }
        return sum;
    }

    /// <summary>log2 of a positive value: k + 2 atanh((m − 1)/(m + 1)) · log2(e) with m = value / 2^k in [√2/2, √2).</summary>
    private static WideReal Log2(WideReal value)
    {
        var k = value.Exponent;
        var m = new WideReal(false, 0, value.Significand);
        if (value.Significand > Sqrt2Significand)
        {
            m = m.Scale(-1);
            k++;
        }
        var ln = Atanh((m - WideReal.One) / (m + WideReal.One)).Scale(1);
        return WideReal.FromInteger(k) + ln * WideConstants.Log2E;
    }

    /// <summary>√2 as a 128-bit significand (√2 = significand × 2^-127).</summary>
    private static readonly UInt128 Sqrt2Significand = (UInt128)0xB504F333F9DE6484UL << 64 | 0x597D89B3754ABE9FUL;

    /// <summary>e^y − 1 = y + y²/2! + … for |y| ≤ ln 2.</summary>
    private static WideReal ExponentialMinus1(WideReal y)
    {
        var sum = y;
        var term = y;
        for (uint n = 2; ; n++)
        {
            term = (term * y).DivideBy(n);
            sum += term;
            if (term.IsZero || term.Exponent < sum.Exponent - SeriesPrecision) break;
        }
        return sum;
    }
}
