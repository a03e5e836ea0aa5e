namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// Deterministic binary16/32/64 operands for the SIMD oracle tests, weighted toward what the rounding and exception
/// rules care about: zeros, infinities, quiet and signalling NaNs, denormals, the edges of the exponent range, and
/// values aimed at cancellation, underflow and overflow of a fused multiply-add.
/// </summary>
internal sealed class FloatOperandGenerator(int seed)
{
    private readonly Random _random = new(seed);

    private static int FractionBits(bool d) => d ? 52 : 23;
    private static int MaxExponent(bool d) => d ? 0x7FF : 0xFF;
    private static int Bias(bool d) => d ? 1023 : 127;

    public bool Chance(int percent) => _random.Next(100) < percent;

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    private ulong Fraction(bool d)
    {
        var bits = FractionBits(d);
        var f = ((ulong)_random.NextInt64() ^ ((ulong)_random.Next() << 40)) & ((1UL << bits) - 1);
        return _random.Next(6) switch
        {
            0 => f & ~((1UL << _random.Next(bits)) - 1),
            1 => f | ((1UL << _random.Next(bits)) - 1),
            _ => f,
        };
    }

    public ulong Pack(bool sign, int exponent, ulong fraction, bool d) =>
        (sign ? 1UL << (d ? 63 : 31) : 0) | ((ulong)exponent << FractionBits(d)) | fraction;

    /// <summary>A normal value with the given biased exponent and a random fraction and sign.</summary>
    public ulong Normal(int exponent, bool d) => Pack(Chance(50), Math.Clamp(exponent, 1, MaxExponent(d) - 1), Fraction(d), d);

    public ulong Special(bool d)
    {
        var fb = FractionBits(d);
        var quiet = 1UL << (fb - 1);
        var sign = Chance(50);
        return _random.Next(9) switch
        {
            0 => Pack(sign, 0, 0, d),
            1 => Pack(sign, MaxExponent(d), 0, d),
            2 => Pack(sign, MaxExponent(d), quiet | (Fraction(d) & (quiet - 1) & (Chance(50) ? 0 : ~0UL)), d),
            3 => Pack(sign, MaxExponent(d), (Fraction(d) & (quiet - 1)) | 1, d),
            4 => Pack(sign, 0, 1, d),
            5 => Pack(sign, 0, (1UL << fb) - 1, d),
            6 => Pack(sign, 1, 0, d),
            7 => Pack(sign, MaxExponent(d) - 1, (1UL << fb) - 1, d),
            _ => Pack(sign, Bias(d), 0, d),
        };
    }

    public ulong Denormal(bool d) => Pack(Chance(50), 0, Math.Max(Fraction(d) >> _random.Next(FractionBits(d)), 1), d);

    /// <summary>Any operand: specials, denormals, the exponent edges, and mostly values near 1 so that operands interact.</summary>
    public ulong Any(bool d) => _random.Next(20) switch
    {
        0 or 1 => Special(d),
        2 or 3 => Denormal(d),
        4 => Normal(1 + _random.Next(4), d),
        5 => Normal(MaxExponent(d) - 1 - _random.Next(4), d),
        6 => Normal(1 + _random.Next(MaxExponent(d) - 1), d),
        _ => Normal(Bias(d) - 30 + _random.Next(61), d),
    };

    /// <summary>A multiplier that puts x × y near the bottom or the top of the exponent range.</summary>
    public ulong AimedMultiplier(ulong x, bool d)
    {
        var ex = (int)((x >> FractionBits(d)) & (ulong)MaxExponent(d));
        if (ex == 0 || ex == MaxExponent(d)) return Any(d);
        var target = Chance(50) ? 1 - FractionBits(d) + _random.Next(FractionBits(d) + 4) : MaxExponent(d) - 3 + _random.Next(4);
        var ey = target - ex + Bias(d);
        return ey >= 1 && ey < MaxExponent(d) ? Normal(ey, d) : ey <= 0 ? Denormal(d) : Any(d);
    }

    /// <summary>An addend that nearly cancels x × y (a few ulps of the rounded product away), or lies near it in magnitude.</summary>
    public ulong AimedAddend(ulong x, ulong y, bool d)
    {
        ulong product;
        if (d) product = BitConverter.DoubleToUInt64Bits(BitConverter.UInt64BitsToDouble(x) * BitConverter.UInt64BitsToDouble(y));
        else product = BitConverter.SingleToUInt32Bits(BitConverter.UInt32BitsToSingle((uint)x) * BitConverter.UInt32BitsToSingle((uint)y));
        var signBit = 1UL << (d ? 63 : 31);
        var magnitude = product & ~signBit;
        if (magnitude >= (ulong)MaxExponent(d) << FractionBits(d)) return Any(d);
        var offset = (long)_random.Next(-4, 5);
        if (Chance(30)) offset <<= _random.Next(FractionBits(d));
        var shifted = (long)magnitude + offset;
        if (shifted < 0) shifted = 0;
        if (shifted >= (long)MaxExponent(d) << FractionBits(d)) shifted = ((long)MaxExponent(d) << FractionBits(d)) - 1;
        var sign = Chance(75) ? (product & signBit) ^ signBit : product & signBit;
        return (ulong)shifted | sign;
    }

    /// <summary>An MXCSR with every exception masked, any rounding control, DAZ and FTZ.</summary>
    public uint MaskedMxcsr() => 0x1F80u | ((uint)_random.Next(4) << 13) | (Chance(50) ? 0x40u : 0) | (Chance(50) ? 0x8000u : 0);
}
