namespace Sim.Cpu.X87;

/// <summary>
/// A real with a 128-bit significand and an unbounded exponent, the working precision of the transcendental
/// instructions: value = significand × 2^(Exponent − 127), the significand normalized (bit 127 set) unless it is zero.
/// Every operation truncates, so each costs at most 2^-127 relative; integer arithmetic only.
/// </summary>
internal readonly struct WideReal(bool sign, int exponent, UInt128 significand)
{
    private static readonly UInt128 Top = UInt128.One << 127;

    public bool Sign { get; } = sign;
    public int Exponent { get; } = exponent;
    public UInt128 Significand { get; } = significand;

    public bool IsZero => Significand == UInt128.Zero;

    public static WideReal Zero => new(false, 0, UInt128.Zero);

    public static WideReal One => new(false, 0, Top);

    public WideReal Negate() => new(!Sign, Exponent, Significand);

    public WideReal Abs() => new(false, Exponent, Significand);

    public WideReal Scale(int power) => IsZero ? this : new(Sign, Exponent + power, Significand);

    /// <summary>A finite nonzero extended real, denormals at their true value.</summary>
    public static WideReal From(ExtendedReal value)
    {
        if (value.IsZero) return Zero;
        var x = UnpackedReal.From(value);
        return new(x.Sign, x.Exponent - ExtendedReal.ExponentBias, (UInt128)x.Significand << 64);
    }

    public static WideReal FromInteger(long value)
    {
        if (value == 0) return Zero;
        var magnitude = (UInt128)(value < 0 ? (ulong)-value : (ulong)value);
        return Normalized(value < 0, 127, magnitude);
    }

    /// <summary>sign × significand × 2^(exponent − 127) for any nonzero significand.</summary>
    public static WideReal Normalized(bool sign, int exponent, UInt128 significand)
    {
        if (significand == UInt128.Zero) return Zero;
        var shift = (int)UInt128.LeadingZeroCount(significand);
        return new(sign, exponent - shift, significand << shift);
    }

    public static WideReal operator *(WideReal a, WideReal b)
    {
        if (a.IsZero || b.IsZero) return Zero;
        var al = (ulong)a.Significand;
        var ah = (ulong)(a.Significand >> 64);
        var bl = (ulong)b.Significand;
        var bh = (ulong)(b.Significand >> 64);
        var p0 = (UInt128)al * bl;
        var p1 = (UInt128)al * bh;
        var p2 = (UInt128)ah * bl;
        var p3 = (UInt128)ah * bh;
        var mid = (p0 >> 64) + (ulong)p1 + (ulong)p2;
        var high = p3 + (p1 >> 64) + (p2 >> 64) + (mid >> 64);
        return Normalized(a.Sign != b.Sign, a.Exponent + b.Exponent + 1, high);
    }

    public static WideReal operator /(WideReal a, WideReal b)
    {
        if (a.IsZero) return Zero;
        // Restoring division: the quotient's bits from 2^127 down, the remainder kept below the divisor.
        var remainder = a.Significand;
        var divisor = b.Significand;
        var carry = false;
        var quotient = UInt128.Zero;
        for (var bit = 127; bit >= 0; bit--)
        {
            if (carry || remainder >= divisor)
            {
                remainder -= divisor;
                quotient |= UInt128.One << bit;
            }
            carry = (remainder >> 127) != UInt128.Zero;
            remainder <<= 1;
        }
        return Normalized(a.Sign != b.Sign, a.Exponent - b.Exponent, quotient);
    }

    /// <summary>Division by a small positive integer, keeping the bits a plain shift would lose.</summary>
    public WideReal DivideBy(uint divisor)
    {
        if (IsZero) return this;
        var quotient = Significand / divisor;
        var remainder = Significand % divisor;
        var shift = (int)UInt128.LeadingZeroCount(quotient);
        var low = (remainder << shift) / divisor;
        return new(Sign, Exponent - shift, (quotient << shift) | low);
    }

    public static WideReal operator +(WideReal a, WideReal b)
    {
        if (a.IsZero) return b;
        if (b.IsZero) return a;
        if (CompareMagnitude(a, b) < 0) (a, b) = (b, a);
        var shift = a.Exponent - b.Exponent;
        var smaller = shift >= 128 ? UInt128.Zero : b.Significand >> shift;
        // Bits of the smaller operand shifted out still say which way the exact sum lies: they set the sticky low bit
        // of a sum and borrow one from a difference.
        var lost = shift >= 128 || (shift > 0 && (b.Significand << (128 - shift)) != UInt128.Zero);
        var sticky = lost ? UInt128.One : UInt128.Zero;
        if (a.Sign == b.Sign)
        {
            // One bit of headroom takes the carry.
            var sum = (a.Significand >> 1) + (smaller >> 1) + (a.Significand & smaller & UInt128.One);
            return Normalized(a.Sign, a.Exponent + 1, sum | sticky);
        }
        return Normalized(a.Sign, a.Exponent, a.Significand - smaller - sticky);
    }

    public static WideReal operator -(WideReal a, WideReal b) => a + b.Negate();

    public static int CompareMagnitude(WideReal a, WideReal b)
    {
        if (a.IsZero || b.IsZero) return a.IsZero == b.IsZero ? 0 : a.IsZero ? -1 : 1;
        if (a.Exponent != b.Exponent) return a.Exponent < b.Exponent ? -1 : 1;
        return a.Significand.CompareTo(b.Significand);
    }

    /// <summary>Rounds to a 64-bit extended real by RC; the value stands for an irrational, so it is inexact.</summary>
    public FpuResult ToExtended(FpuControlWord cw, FpuExceptions flags)
    {
        if (IsZero) return new(Sign ? ExtendedReal.NegativeZero : ExtendedReal.PositiveZero, flags);
        return Rounding.ToExtended(Sign, Exponent + ExtendedReal.ExponentBias, Significand | UInt128.One, 64, cw, flags);
    }
}
