using Sim.Cpu.Simd;

namespace Sim.Cpu.Tests.Simd;

/// <summary>The fused multiply-add's rules as SDM vol. 1, 14.5.1 and tables 14-16 and 14-17 state them, one case each.</summary>
[TestClass]
public sealed class FusedMultiplyAddTests
{
    private const uint Nearest = 0x1F80, Down = 0x1F80 | (1 << 13), Ftz = 0x8000;
    private const ulong One = 0x3FF0_0000_0000_0000, MinusOne = 0xBFF0_0000_0000_0000;

    private static (ulong Result, uint Flags) Fma(ulong x, ulong y, ulong z, bool d, uint mxcsr = Nearest, bool negateProduct = false, bool negateAddend = false)
    {
        uint flags = 0;
        var r = SimdFloat.FusedMultiplyAdd(x, y, z, negateProduct, negateAddend, d, mxcsr, ref flags);
        return (r, flags);
    }

    [TestMethod]
    public void OneRoundingKeepsWhatAProductRoundedFirstLoses()
    {
        // (1 + 2^−30)(1 − 2^−30) − 1 = −2^−60 exactly; the product alone rounds to 1 and the sum to 0.
        var (r, f) = Fma(0x3FF0_0000_0040_0000, 0x3FEF_FFFF_FF80_0000, MinusOne, true);
        Assert.AreEqual(0xBC30_0000_0000_0000UL, r);
        Assert.AreEqual(0u, f, "exact: no PE");
    }

    [TestMethod]
    [DataRow(false, false, Nearest, 0UL)]
    [DataRow(false, false, Down, 0x8000_0000_0000_0000UL)]
    [DataRow(false, true, Nearest, 0UL)]
    [DataRow(true, false, Down, 0x8000_0000_0000_0000UL)]
    [DataRow(true, true, Nearest, 0x8000_0000_0000_0000UL)]
    public void ZeroResultsFollowTable14_16(bool negateProduct, bool negateAddend, uint mxcsr, ulong expected)
    {
        // x × y = (+0)(+0); z = −0 for the first two rows (opposite signs: +0, or −0 rounding down), +0 otherwise.
        var z = negateProduct || negateAddend ? 0UL : 0x8000_0000_0000_0000UL;
        Assert.AreEqual(expected, Fma(0, 0, z, true, mxcsr, negateProduct, negateAddend).Result);
    }

    [TestMethod]
    public void ExactCancellationIsPlusZeroExceptRoundingDown()
    {
        Assert.AreEqual(0UL, Fma(One, One, MinusOne, true).Result);
        Assert.AreEqual(0x8000_0000_0000_0000UL, Fma(One, One, MinusOne, true, Down).Result);
    }

    [TestMethod]
    public void TheFirstNaNOfMultiplicandMultiplierAddendIsReturnedQuiet()
    {
        const uint qx = 0x7FC0_0001, sy = 0x7F80_0002, qz = 0xFFC0_0003;
        Assert.AreEqual((0x7FC0_0001UL, SimdFloat.IE), Fma(qx, sy, qz, false), "Q(x), IE for the SNaN in y");
        Assert.AreEqual((0x7FC0_0002UL, SimdFloat.IE), Fma(0x3F80_0000, sy, qz, false), "Q(y)");
        Assert.AreEqual((0xFFC0_0003UL, 0u), Fma(0x3F80_0000, 0x3F80_0000, qz, false), "Q(z), no IE");
        Assert.AreEqual((0xFFC0_0003UL, 0u), Fma(0x3F80_0000, 0x3F80_0000, qz, false, negateProduct: true, negateAddend: true), "the negations leave a NaN alone");
    }

    [TestMethod]
    public void InfinityTimesZeroIsInvalidUnlessTheAddendIsANaN()
    {
        Assert.AreEqual((0xFFC0_0000UL, SimdFloat.IE), Fma(0x7F80_0000, 0, 0x3F80_0000, false), "QNaN indefinite");
        Assert.AreEqual((0x7FC0_0005UL, 0u), Fma(0x7F80_0000, 0, 0x7FC0_0005, false), "table 14-17: Q(z), invalid only for an SNaN z");
        Assert.AreEqual((0x7FC0_0005UL, SimdFloat.IE), Fma(0, 0xFF80_0000, 0x7F80_0005, false));
    }

    [TestMethod]
    public void InfinitiesOfOppositeSignAreInvalid()
    {
        Assert.AreEqual((0xFFF8_0000_0000_0000UL, SimdFloat.IE), Fma(0x7FF0_0000_0000_0000, One, 0xFFF0_0000_0000_0000, true));
        Assert.AreEqual((0xFFF8_0000_0000_0000UL, SimdFloat.IE), Fma(0x7FF0_0000_0000_0000, One, 0x7FF0_0000_0000_0000, true, negateAddend: true), "VFMSUB: ∞ − ∞");
        Assert.AreEqual((0xFFF0_0000_0000_0000UL, 0u), Fma(0x7FF0_0000_0000_0000, One, 0x7FF0_0000_0000_0000, true, negateProduct: true, negateAddend: true), "VFNMSUB: −∞ − ∞");
    }

    [TestMethod]
    public void TininessIsDetectedAfterRounding()
    {
        // (2^−126 (1 + 2^−23)) × (1 − 2^−23) = 2^−126 (1 − 2^−46): rounded with an unbounded exponent it is 2^−126, not tiny.
        Assert.AreEqual((0x0080_0000UL, SimdFloat.PE), Fma(0x0080_0001, 0x3F7F_FFFE, 0, false));
        Assert.AreEqual((0x0080_0000UL, SimdFloat.PE), Fma(0x0080_0001, 0x3F7F_FFFE, 0, false, Nearest | Ftz), "not tiny, so FTZ does not flush");
        // 2^−126 (1 − 2^−24) is tiny even after rounding: underflow and inexact, and FTZ flushes it.
        Assert.AreEqual((0x0080_0000UL, SimdFloat.UE | SimdFloat.PE), Fma(0x3F7F_FFFF, 0x0080_0000, 0, false));
        Assert.AreEqual((0UL, SimdFloat.UE | SimdFloat.PE), Fma(0x3F7F_FFFF, 0x0080_0000, 0, false, Nearest | Ftz));
    }

    [TestMethod]
    public void DenormalOperandsRaiseDeOrAreZeroUnderDaz()
    {
        Assert.AreEqual((0x0000_0001UL, SimdFloat.DE), Fma(0x3F80_0000, 0x0000_0001, 0, false));
        Assert.AreEqual((0x3F80_0000UL, 0u), Fma(0x3F80_0000, 0x0000_0001, 0x3F80_0000, false, Nearest | 0x40), "DAZ: 1 × 0 + 1");
    }

    [TestMethod]
    public void OverflowFollowsTheRoundingDirection()
    {
        const ulong max = 0x7FEF_FFFF_FFFF_FFFF;
        Assert.AreEqual((0x7FF0_0000_0000_0000UL, SimdFloat.OE | SimdFloat.PE), Fma(max, 0x4000_0000_0000_0000, 0, true));
        Assert.AreEqual((max, SimdFloat.OE | SimdFloat.PE), Fma(max, 0x4000_0000_0000_0000, 0, true, Down));
    }
}
