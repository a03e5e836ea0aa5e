namespace Sim.Cpu.X87;

/// <summary>
/// A finite nonzero operand with its significand normalized (bit 63 set) and an exponent that may go below the encodable
/// range, so that denormals and pseudo-denormals take part in the arithmetic at their true value.
/// Value = significand × 2^(exponent − 3FFFh − 63).
/// </summary>
internal readonly struct UnpackedReal(bool sign, int exponent, ulong significand)
{
    public bool Sign { get; } = sign;
    public int Exponent { get; } = exponent;
    public ulong Significand { get; } = significand;

    /// <summary>Unpacks a normal, denormal or pseudo-denormal; a biased exponent of 0 weighs as 1 (SDM vol. 1, 4.8.3.2).</summary>
    public static UnpackedReal From(ExtendedReal value, bool sign)
    {
        var exponent = value.Exponent == 0 ? 1 : value.Exponent;
        var shift = Rounding.LeadingZeroCount(value.Significand);
        return new(sign, exponent - shift, value.Significand << shift);
    }

    public static UnpackedReal From(ExtendedReal value) => From(value, value.Sign);
}
