using Sim.Cpu.X87;

namespace Sim.Cpu.Simd;

internal static partial class SimdFloat
{
    /// <summary>
    /// The fused multiply-add of FMA3 (SDM vol. 1, 14.5.1 and tables 14-16, 14-17): ±(x × y) ± z computed exactly and
    /// rounded once under MXCSR. <paramref name="x"/> is the multiplicand, <paramref name="y"/> the multiplier and
    /// <paramref name="z"/> the addend; the negations give VFMSUB (<paramref name="negateAddend"/>), VFNMADD
    /// (<paramref name="negateProduct"/>) and VFNMSUB (both). A NaN operand gives the first NaN of x, y, z quieted and
    /// unnegated, with IE only for an SNaN (∞ × 0 + QNaN is Q(z) without IE, as table 14-17 has it); DE for a denormal
    /// operand when no NaN or invalid operation intervenes; the result meets tininess after rounding, FTZ and the masked responses as every
    /// SSE result does.
    /// </summary>
    public static ulong FusedMultiplyAdd(ulong x, ulong y, ulong z, bool negateProduct, bool negateAddend, bool d, uint mxcsr, ref uint flags)
    {
        x = Source(x, d, mxcsr);
        y = Source(y, d, mxcsr);
        z = Source(z, d, mxcsr);
        bool xi = IsInfinity(x, d), yi = IsInfinity(y, d), xz = IsZero(x, d), yz = IsZero(y, d);
        var infinityTimesZero = (xi && yz) || (yi && xz);
        if (IsNaN(x, d) || IsNaN(y, d) || IsNaN(z, d))
        {
            if (IsSignalingNaN(x, d) || IsSignalingNaN(y, d) || IsSignalingNaN(z, d)) flags |= IE;
            return Quiet(IsNaN(x, d) ? x : IsNaN(y, d) ? y : z, d);
        }
        if (infinityTimesZero)
        {
            flags |= IE;
            return DefaultNaN(d);
        }
        var productSign = Negative(x, d) ^ Negative(y, d) ^ negateProduct;
        var addendSign = Negative(z, d) ^ negateAddend;
        var zi = IsInfinity(z, d);
        if (xi || yi)
        {
            if (zi && productSign != addendSign)
            {
                flags |= IE;
                return DefaultNaN(d);
            }
            DenormalOperands(x, y, z, d, ref flags);
            return Infinity(productSign, d);
        }
        DenormalOperands(x, y, z, d, ref flags);
        if (zi) return Infinity(addendSign, d);
        var zz = IsZero(z, d);
        if (xz || yz)
        {
            // An exact zero product: the sum is z itself, or a zero whose sign follows table 14-16.
            if (zz) return productSign == addendSign ? Zero(productSign, d) : Zero(Rc(mxcsr) == RoundingControl.Down, d);
            return Exact(z ^ (negateAddend ? SignBit(d) : 0), d, mxcsr, ref flags);
        }
        Unpack(x, d, out _, out var ex, out var mx);
        Unpack(y, d, out _, out var ey, out var my);
        // The product is exact in 128 bits; two bits of headroom (the low bits of the product are zero) keep the sum exact.
        var product = ((UInt128)mx * my) >> 2;
        var productExponent = ex + ey - ExtendedReal.ExponentBias + 3;
        if (zz) return Round(productSign, productExponent, product, d, mxcsr, ref flags);
        Unpack(z, d, out _, out var ez, out var mz);
        var addend = (UInt128)mz << 62;
        var addendExponent = ez + 2;
        if (productExponent < addendExponent)
        {
            (productSign, addendSign) = (addendSign, productSign);
            (productExponent, addendExponent) = (addendExponent, productExponent);
            (product, addend) = (addend, product);
        }
        // Jamming the smaller operand is exact for the rounding: the bits it loses lie far below the larger one's lowest.
        addend = Rounding.ShiftRightJamming(addend, productExponent - addendExponent);
        UInt128 sum;
        var sign = productSign;
        if (productSign == addendSign) sum = product + addend;
        else if (product >= addend) sum = product - addend;
        else
        {
            sum = addend - product;
            sign = addendSign;
        }
        if (sum == UInt128.Zero) return Zero(Rc(mxcsr) == RoundingControl.Down, d);
        return Round(sign, productExponent, sum, d, mxcsr, ref flags);
    }

    private static void DenormalOperands(ulong a, ulong b, ulong c, bool d, ref uint flags)
    {
        if (IsDenormal(a, d) || IsDenormal(b, d) || IsDenormal(c, d)) flags |= DE;
    }
}
