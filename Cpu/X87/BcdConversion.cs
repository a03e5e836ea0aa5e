namespace Sim.Cpu.X87;

/// <summary>FBLD and FBSTP: packed BCD integers to and from extended reals (SDM vol. 2A, FBLD and FBSTP).</summary>
public static class BcdConversion
{
    private const ulong Largest = 999_999_999_999_999_999;

    /// <summary>
    /// FBLD is exact. A digit above 9 is undefined by the SDM; the hardware takes it at its binary weight (digit × 10^k)
    /// and ignores bits 6:0 of the sign byte, and so does this.
    /// </summary>
    public static ExtendedReal Load(PackedBcd bcd)
    {
        ulong value = 0;
        for (var digit = 17; digit >= 0; digit--)
            value = value * 10 + Digit(bcd, digit);
        var magnitude = IntegerConversion.FromInt64((long)value);
        return magnitude.WithSign(bcd.Sign);
    }

    /// <summary>FBSTP rounds by RC; beyond 18 digits, or for a NaN, an infinity or an unsupported encoding, it stores the indefinite with #IA.</summary>
    public static BcdResult Store(ExtendedReal a, FpuControlWord cw)
    {
        var invalid = new BcdResult(PackedBcd.Indefinite, FpuExceptions.Invalid);
        if (a.IsUnsupported || a.IsNaN || a.IsInfinity)
            return invalid;
        var sign = (ushort)(a.Sign ? 0x8000 : 0);
        if (a.IsZero)
            return new(new PackedBcd(sign, 0), FpuExceptions.None);
        var flags = FpuExceptions.None;
        var x = UnpackedReal.From(a);
        var fractionBits = ExtendedReal.ExponentBias + 63 - x.Exponent;
        if (fractionBits < 0)
            return invalid;
        var (magnitude, inexact, up) = RoundToInteger.ToInteger(x, fractionBits, cw.RoundingControl);
        if (magnitude > Largest)
            return invalid;
        if (inexact)
            flags |= FpuExceptions.Precision;
        var value = (ulong)magnitude;
        ulong low = 0;
        for (var digit = 0; digit < 16; digit++)
        {
            low |= (value % 10) << (4 * digit);
            value /= 10;
        }
        var high = (ushort)(sign | (ushort)((value / 10) << 4) | (ushort)(value % 10));
        return new(new PackedBcd(high, low), flags, up);
    }

    private static ulong Digit(PackedBcd bcd, int digit) =>
        digit < 16 ? (bcd.Low >> (4 * digit)) & 0xF : ((ulong)bcd.High >> (4 * (digit - 16))) & 0xF;
}
