namespace Sim.Cpu.Simd;

/// <summary>
/// The host's floating point where it gives the architectural result bit for bit: round to nearest (the host's
/// MXCSR under .NET), both operands normal and the result normal, so that no exception but inexact can arise;
/// inexact is found exactly with an error-free transformation (TwoSum) or a fused multiply-add residual. binary32
/// operations are computed in binary64 and rounded once more, which is exact for +, −, ×, ÷ and √ (53 ≥ 2 × 24 + 2).
/// Anything else falls back to <see cref="SimdFloat"/>'s software path.
/// </summary>
internal static class HostFastPath
{
    private const uint RoundingControl = 3u << 13;

    private static bool Normal32(ulong x) => ((uint)x & 0x7F80_0000) is not (0 or 0x7F80_0000);

    /// <summary>
    /// binary64 values whose exponent is at least −895, so that a fused multiply-add residual (a multiple of about
    /// 2^(e − 104)) is representable and the exactness test cannot be fooled by underflow.
    /// </summary>
    private static bool Wide64(ulong x) => (x & 0x7FF0_0000_0000_0000) is >= 0x0800_0000_0000_0000 and not 0x7FF0_0000_0000_0000;

    public static bool Applies(ulong a, ulong b, bool d, uint mxcsr) =>
        (mxcsr & RoundingControl) == 0 && (d ? Wide64(a) && Wide64(b) : Normal32(a) && Normal32(b));

    /// <summary>op: 0 add, 1 subtract, 2 multiply, 3 divide.</summary>
    public static bool TryBinary(ulong a, ulong b, bool d, int op, ref uint flags, out ulong result)
    {
        bool exact;
        if (d)
        {
            var x = BitConverter.UInt64BitsToDouble(a);
            var y = BitConverter.UInt64BitsToDouble(b);
            double r;
            switch (op)
            {
                case 0 or 1:
                    if (op == 1) y = -y;
                    r = x + y;
                    exact = TwoSumError(x, y, r) == 0;
                    break;
                case 2:
                    r = x * y;
                    exact = Math.FusedMultiplyAdd(x, y, -r) == 0;
                    break;
                default:
                    r = x / y;
                    exact = Math.FusedMultiplyAdd(r, y, -x) == 0;
                    break;
            }
            result = BitConverter.DoubleToUInt64Bits(r);
            if (!Wide64(result)) return false;
        }
        else
        {
            double x = BitConverter.UInt32BitsToSingle((uint)a);
            double y = BitConverter.UInt32BitsToSingle((uint)b);
            double wide;
            switch (op)
            {
                case 0 or 1:
                    if (op == 1) y = -y;
                    wide = x + y;
                    exact = TwoSumError(x, y, wide) == 0;
                    break;
                case 2:
                    wide = x * y;
                    exact = true;
                    break;
                default:
                    wide = x / y;
                    exact = Math.FusedMultiplyAdd(wide, y, -x) == 0;
                    break;
            }
            var r = (float)wide;
            exact &= r == wide;
            result = BitConverter.SingleToUInt32Bits(r);
            if (!Normal32(result)) return false;
        }
        if (!exact) flags |= SimdFloat.PE;
        return true;
    }

    public static bool TrySquareRoot(ulong a, bool d, uint mxcsr, ref uint flags, out ulong result)
    {
        result = 0;
        if ((mxcsr & RoundingControl) != 0) return false;
        if (d)
        {
            if (!Wide64(a) || (long)a < 0) return false;
            var x = BitConverter.UInt64BitsToDouble(a);
            var r = Math.Sqrt(x);
            if (Math.FusedMultiplyAdd(r, r, -x) != 0) flags |= SimdFloat.PE;
            result = BitConverter.DoubleToUInt64Bits(r);
            return true;
        }
        if (!Normal32(a) || (a & 0x8000_0000) != 0) return false;
        double v = BitConverter.UInt32BitsToSingle((uint)a);
        var f = (float)Math.Sqrt(v);
        if ((double)f * f != v) flags |= SimdFloat.PE;
        result = BitConverter.SingleToUInt32Bits(f);
        return true;
    }

    /// <summary>The rounding error of r = x + y (Knuth's TwoSum): zero exactly when the sum is exact.</summary>
    private static double TwoSumError(double x, double y, double r)
    {
        var yy = r - x;
        var xx = r - yy;
        return (x - xx) + (y - yy);
    }
}
