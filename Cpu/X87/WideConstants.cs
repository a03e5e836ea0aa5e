using System.Numerics;

namespace Sim.Cpu.X87;

/// <summary>
/// π, ln 2 and 2/π to the precision the transcendentals need, computed once from integer series (Machin's formula for
/// π, 2·atanh(1/3) for ln 2) so that nothing depends on the host's floating point.
/// </summary>
internal static class WideConstants
{
    /// <summary>Fixed-point bits of the series; 2/π needs 384 fraction bits for arguments up to 2^63.</summary>
    private const int Bits = 640;

    public static readonly WideReal Pi;
    public static readonly WideReal HalfPi;
    public static readonly WideReal QuarterPi;
    public static readonly WideReal Ln2;
    public static readonly WideReal Log2E;

    /// <summary>The fraction of 2/π (which is below 1) to 2^-384, as six words, most significant first.</summary>
    public static readonly ulong[] TwoOverPi = new ulong[6];

    static WideConstants()
    {
        var one = BigInteger.One << Bits;
        var pi = 4 * (4 * ArctangentOfReciprocal(5, one) - ArctangentOfReciprocal(239, one));
        var ln2 = 2 * AtanhOfReciprocal(3, one);
        Pi = FromFixed(pi);
        HalfPi = Pi.Scale(-1);
        QuarterPi = Pi.Scale(-2);
        Ln2 = FromFixed(ln2);
        Log2E = WideReal.One / Ln2;
        var twoOverPi = (BigInteger.One << (Bits + 385)) / pi;
        for (var i = 0; i < 6; i++) TwoOverPi[i] = (ulong)((twoOverPi >> (64 * (5 - i))) & ulong.MaxValue);
    }

    private static BigInteger ArctangentOfReciprocal(int n, BigInteger one)
    {
        BigInteger sum = 0;
        var power = one / n;
        var n2 = n * n;
        for (var k = 0; power != 0; k++)
        {
            var term = power / (2 * k + 1);
            sum += (k & 1) == 0 ? term : -term;
            power /= n2;
        }
        return sum;
    }

    private static BigInteger AtanhOfReciprocal(int n, BigInteger one)
    {
        BigInteger sum = 0;
        var power = one / n;
        var n2 = n * n;
        for (var k = 0; power != 0; k++)
        {
            sum += power / (2 * k + 1);
            power /= n2;
        }
        return sum;
    }

    /// <summary>A positive fixed-point value with <see cref="Bits"/> fraction bits, truncated to 128 significant bits.</summary>
    private static WideReal FromFixed(BigInteger value)
    {
        var length = (int)value.GetBitLength();
        var top = (UInt128)(value >> (length - 128));
        return new WideReal(false, length - 1 - Bits, top);
    }
}
