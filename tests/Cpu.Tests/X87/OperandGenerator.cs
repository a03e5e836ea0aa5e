using Sim.Cpu.X87;

namespace Sim.Cpu.Tests.X87;

/// <summary>Seeded operands for the oracle tests, biased to the encodings and values where x87 behaviour has edges.</summary>
internal sealed class OperandGenerator(ulong seed)
{
    private ulong state = seed;

    public ulong Next()
    {
        // SplitMix64: deterministic across runtimes, unlike System.Random's algorithm choice.
        var z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    public int Below(int n) => (int)(Next() % (ulong)n);

    public bool Chance(int percent) => Below(100) < percent;

    /// <summary>A significand with the integer bit set and a fraction likely to sit at or near a rounding boundary.</summary>
    public ulong Significand()
    {
        var r = Next();
        switch (Below(10))
        {
            case 0:
                return ExtendedReal.IntegerBit;
            case 1:
                return ulong.MaxValue;
            case 2:
            case 3:
            {
                // A tie, or one off a tie, at the 24-, 53- or 64-bit rounding position.
                var position = Below(3) switch { 0 => 40, 1 => 11, _ => 0 };
                var v = ((r | ExtendedReal.IntegerBit) & ~((1UL << position) - 1)) | (position > 0 ? 1UL << (position - 1) : 0);
                return Below(3) switch { 0 => v, 1 => v + 1, _ => v - 1 } | ExtendedReal.IntegerBit;
            }
            case 4:
                return ExtendedReal.IntegerBit | (r >> Below(64));
            case 5:
                return ulong.MaxValue << Below(64);
            default:
                return r | ExtendedReal.IntegerBit;
        }
    }

    public ExtendedReal Special()
    {
        var sign = Chance(50);
        var r = Next();
        return Below(16) switch
        {
            0 => new(sign, 0, 0),
            1 => new(sign, 0, r >> (1 + Below(63))),
            2 => new(sign, 0, r | ExtendedReal.IntegerBit),
            3 => new(sign, 1, Significand()),
            4 => new(sign, 0x7FFE, Significand()),
            5 => new(sign, 0x7FFF, ExtendedReal.IntegerBit),
            6 => new(sign, 0x7FFF, ExtendedReal.IntegerBit | ExtendedReal.QuietBit | (r >> Below(64) & (ExtendedReal.QuietBit - 1))),
            7 => new(sign, 0x7FFF, ExtendedReal.IntegerBit | Math.Max(1, r >> Below(64) & (ExtendedReal.QuietBit - 1))),
            8 => ExtendedReal.RealIndefinite,
            9 => new(sign, 0x7FFF, r & ~ExtendedReal.IntegerBit),
            10 => new(sign, 1 + Below(0x7FFE), r & ~ExtendedReal.IntegerBit),
            11 => new(sign, 0, 1),
            12 => new(sign, 0x7FFF, ExtendedReal.IntegerBit | 1),
            13 => new(sign, 1, ExtendedReal.IntegerBit),
            14 => new(sign, 0x7FFE, ulong.MaxValue),
            _ => new(sign, 0, ExtendedReal.IntegerBit),
        };
    }

    public ExtendedReal Normal(int minExponent = 1, int maxExponent = 0x7FFE) =>
        new(Chance(50), minExponent + Below(maxExponent - minExponent + 1), Significand());

    /// <summary>Any operand: specials, normals anywhere, and normals near 1 where two operands interact.</summary>
    public ExtendedReal Any() => Below(10) switch
    {
        0 or 1 or 2 => Special(),
        3 or 4 => Normal(),
        5 => Normal(1, 200),
        6 => Normal(0x7FFE - 200, 0x7FFE),
        _ => Normal(0x3FFF - 70, 0x3FFF + 70),
    };

    /// <summary>A second operand related to the first: same magnitude, nearby exponent, or one ulp away.</summary>
    public ExtendedReal Related(ExtendedReal a)
    {
        if (!IsFiniteNonzero(a) || Chance(40))
            return Any();
        var sign = Chance(50);
        var exponent = Math.Clamp(a.Exponent + Below(140) - 70, 1, 0x7FFE);
        return Below(4) switch
        {
            0 => new(sign, a.Exponent, a.Significand),
            1 => new(sign, a.Exponent, a.Significand + (ulong)Below(3) - 1 | ExtendedReal.IntegerBit),
            2 => new(sign, exponent, a.Significand),
            _ => new(sign, exponent, Significand()),
        };
    }

    /// <summary>Values around the integers (and the integer limits) that rounding to integer and integer stores meet.</summary>
    public ExtendedReal Integral()
    {
        if (Chance(15))
            return Special();
        var sign = Chance(50);
        const int bias = ExtendedReal.ExponentBias;
        return Below(4) switch
        {
            // k + 1/2, k + 1/2 ± ulp and other fractions just around a tie.
            0 => TieAround(sign, bias + Below(66)),
            1 => new(sign, bias - 3 + Below(6), Significand()),
            2 => new(sign, bias + 14 + Below(4) * 16 + Below(3) - 1, Significand()),
            _ => new(sign, bias - 2 + Below(70), Significand()),
        };
    }

    private ExtendedReal TieAround(bool sign, int exponent)
    {
        var integerBits = exponent - ExtendedReal.ExponentBias + 1;
        var v = Next() | ExtendedReal.IntegerBit;
        if (integerBits < 64)
        {
            var fraction = 64 - integerBits;
            v = (v & ~((1UL << fraction) - 1)) | 1UL << (fraction - 1);
            v = Below(3) switch { 0 => v, 1 => v + 1, _ => v - 1 } | ExtendedReal.IntegerBit;
        }
        return new(sign, exponent, v);
    }

    /// <summary>Values near the binary32 and binary64 limits (overflow, smallest normal, denormals) and ties at their precisions.</summary>
    public ExtendedReal NearNarrowLimits()
    {
        if (Chance(15))
            return Special();
        const int bias = ExtendedReal.ExponentBias;
        int[] centers = [bias + 127, bias - 126, bias - 149, bias + 1023, bias - 1022, bias - 1074, bias];
        var center = centers[Below(centers.Length)];
        return new(Chance(50), center + Below(30) - 15, Significand());
    }

    /// <summary>The raw bits of a binary32 (width 32) or binary64 (width 64) with edge exponents and NaN payloads.</summary>
    public ulong NarrowBits(int width)
    {
        var exponentBits = width == 32 ? 8 : 11;
        var fractionBits = width - 1 - exponentBits;
        var maxField = (1UL << exponentBits) - 1;
        var field = Below(5) switch { 0 => 0UL, 1 => maxField, 2 => 1UL, 3 => maxField - 1, _ => Next() & maxField };
        ulong fraction = Below(3) switch { 0 => 0UL, 1 => 1UL << (fractionBits - 1) | (Next() >> Below(64)), _ => Next() >> Below(64) };
        fraction &= (1UL << fractionBits) - 1;
        var sign = Chance(50) ? 1UL << (width - 1) : 0;
        return sign | field << fractionBits | fraction;
    }

    /// <summary>A packed BCD integer, as the memory operand of FBLD; one in ten has digits above 9 or sign-byte junk.</summary>
    public ExtendedReal PackedBcdOperand()
    {
        if (Chance(10))
            return new((ushort)Next(), Next());
        ulong low = 0;
        ulong high = 0;
        var digits = Below(19);
        for (var d = 0; d < digits; d++)
        {
            var digit = (ulong)Below(10);
            if (d < 16)
                low |= digit << (4 * d);
            else
                high |= digit << (4 * (d - 16));
        }
        if (Chance(50))
            high |= 0x8000;
        return new((ushort)high, low);
    }

    /// <summary>
    /// A partner for a that puts a product (or, with <paramref name="divide"/>, a quotient) near the underflow or the
    /// overflow threshold, where denormal results, tininess and the overflow responses are decided.
    /// </summary>
    public ExtendedReal Aimed(ExtendedReal a, bool divide)
    {
        if (!IsFiniteNonzero(a) || Chance(30))
            return Related(a);
        const int bias = ExtendedReal.ExponentBias;
        var target = Below(3) switch { 0 => Below(3) - 1, 1 => 0x7FFF + Below(3) - 2, _ => Below(140) - 70 };
        var exponent = divide ? a.Exponent - target + bias : target - a.Exponent + bias;
        if (exponent < 0 || exponent > 0x7FFE)
            return Related(a);
        return new(Chance(50), exponent, exponent == 0 ? Next() >> Below(8) : Significand());
    }

    public static bool IsFiniteNonzero(ExtendedReal v) =>
        v.Class is ExtendedRealClass.Normal or ExtendedRealClass.Denormal or ExtendedRealClass.PseudoDenormal;

    public static ushort ControlWord(int rc, int pc) => (ushort)(0x7F | (pc << 8) | (rc << 10));

    public ushort ControlWord() => ControlWord(Below(4), Below(8) switch { 0 => 1, 1 or 2 => 0, 3 or 4 => 2, _ => 3 });

    /// <summary>A control word that, half the time, unmasks a random selection of the candidate exceptions.</summary>
    public ushort ControlWordUnmasking(FpuExceptions candidates)
    {
        var cw = ControlWord();
        return Chance(50) ? cw : (ushort)(cw & ~((ushort)candidates & (ushort)Next()));
    }

    /// <summary>A control word that, three times in four, unmasks overflow, underflow or both.</summary>
    public ushort ControlWordUnmaskingOverflowUnderflow()
    {
        var cw = ControlWord();
        return Below(4) switch
        {
            0 => (ushort)(cw & ~(ushort)FpuExceptions.Overflow),
            1 => (ushort)(cw & ~(ushort)FpuExceptions.Underflow),
            2 => (ushort)(cw & ~(ushort)(FpuExceptions.Overflow | FpuExceptions.Underflow)),
            _ => cw,
        };
    }
}
