using Sim.Cpu.X87;

namespace Sim.Cpu.Tests.X87;

/// <summary>Cases worked out by hand from the SDM (vol. 1 ch. 4 and 8, vol. 2 instruction pages).</summary>
[TestClass]
public sealed class X87SdmTests
{
    private static readonly FpuControlWord Masked = FpuControlWord.Default;
    private static readonly ExtendedReal One = ExtendedReal.One;
    private static readonly ExtendedReal Two = new(false, 0x4000, ExtendedReal.IntegerBit);
    private static readonly ExtendedReal Seven = IntegerConversion.FromInt64(7);

    private static ExtendedReal PowerOfTwo(int n) => new(false, ExtendedReal.ExponentBias + n, ExtendedReal.IntegerBit);

    [TestMethod]
    public void RealIndefiniteIsNegativeQuietNaNWithTopFractionBit()
    {
        Assert.AreEqual("FFFFC000000000000000", ExtendedReal.RealIndefinite.ToString());
        Assert.AreEqual(ExtendedRealClass.QuietNaN, ExtendedReal.RealIndefinite.Class);
    }

    [TestMethod]
    public void InvalidOperationsDeliverRealIndefinite()
    {
        var zero = ExtendedReal.PositiveZero;
        var inf = ExtendedReal.PositiveInfinity;
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.Divide(zero, zero, Masked));
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.Subtract(inf, inf, Masked));
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.Multiply(inf, zero, Masked));
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.SquareRoot(One.Negate(), Masked));
        Assert.AreEqual(ExtendedReal.NegativeZero, BasicArithmetic.SquareRoot(ExtendedReal.NegativeZero, Masked).Value);
    }

    [TestMethod]
    public void DivisionByZeroGivesSignedInfinityAndZeroDivide()
    {
        Assert.AreEqual(new FpuResult(ExtendedReal.PositiveInfinity, FpuExceptions.ZeroDivide), BasicArithmetic.Divide(One, ExtendedReal.PositiveZero, Masked));
        Assert.AreEqual(new FpuResult(ExtendedReal.NegativeInfinity, FpuExceptions.ZeroDivide), BasicArithmetic.Divide(One, ExtendedReal.NegativeZero, Masked));
    }

    [TestMethod]
    [DataRow(RoundingControl.Nearest, "3FFF8000000000000000", false)]
    [DataRow(RoundingControl.Down, "3FFF8000000000000000", false)]
    [DataRow(RoundingControl.Up, "3FFF8000000000000001", true)]
    [DataRow(RoundingControl.TowardZero, "3FFF8000000000000000", false)]
    public void OnePlusHalfAnUlpRoundsByRc(RoundingControl rc, string expected, bool roundedUp)
    {
        // 1 + 2^-64 lies halfway between 1 and 1 + 2^-63, the next value with a 64-bit significand; the tie goes to even.
        var r = BasicArithmetic.Add(One, PowerOfTwo(-64), FpuControlWord.Create(rc));
        Assert.AreEqual(expected, r.Value.ToString());
        Assert.AreEqual(FpuExceptions.Precision, r.Exceptions);
        Assert.AreEqual(roundedUp, r.RoundedUp);
    }

    [TestMethod]
    [DataRow(RoundingControl.Nearest, "BFFF8000000000000000")]
    [DataRow(RoundingControl.Down, "BFFF8000000000000001")]
    [DataRow(RoundingControl.Up, "BFFF8000000000000000")]
    [DataRow(RoundingControl.TowardZero, "BFFF8000000000000000")]
    public void NegativeOneMinusHalfAnUlpRoundsByRc(RoundingControl rc, string expected)
    {
        var r = BasicArithmetic.Subtract(One.Negate(), PowerOfTwo(-64), FpuControlWord.Create(rc));
        Assert.AreEqual(expected, r.Value.ToString());
    }

    [TestMethod]
    [DataRow(PrecisionControl.Single, "3FFF8000010000000000")]
    [DataRow(PrecisionControl.Double, "3FFF8000000000000800")]
    [DataRow(PrecisionControl.DoubleExtended, "3FFF8000000000000001")]
    public void PrecisionControlRoundsTheSignificand(PrecisionControl pc, string expected)
    {
        // 1 + 2^-63 rounded up: the next value at 24, 53 and 64 bits.
        var r = BasicArithmetic.Add(One, PowerOfTwo(-63), FpuControlWord.Create(RoundingControl.Up, pc));
        Assert.AreEqual(expected, r.Value.ToString());
    }

    [TestMethod]
    public void PrecisionControlDoesNotApplyToRoundToInteger()
    {
        // 2^29 + 1 + 1/4 needs 32 significand bits; with PC = 24 FRNDINT still gives 2^29 + 1.
        var value = new ExtendedReal(false, ExtendedReal.ExponentBias + 29, 0x8000_0004_0000_0000 | 0x1_0000_0000);
        var r = RoundToInteger.Round(value, FpuControlWord.Create(RoundingControl.Nearest, PrecisionControl.Single));
        Assert.AreEqual(new FpuResult(IntegerConversion.FromInt64((1 << 29) + 1), FpuExceptions.Precision), r);
    }

    [TestMethod]
    [DataRow(RoundingControl.Nearest, "7FFF8000000000000000", true)]
    [DataRow(RoundingControl.Up, "7FFF8000000000000000", true)]
    [DataRow(RoundingControl.Down, "7FFEFFFFFFFFFFFFFFFF", false)]
    [DataRow(RoundingControl.TowardZero, "7FFEFFFFFFFFFFFFFFFF", false)]
    public void MaskedOverflowGivesInfinityOrTheLargestFinite(RoundingControl rc, string expected, bool roundedUp)
    {
        var largest = new ExtendedReal(false, 0x7FFE, ulong.MaxValue);
        var r = BasicArithmetic.Multiply(largest, Two, FpuControlWord.Create(rc));
        Assert.AreEqual(expected, r.Value.ToString());
        Assert.AreEqual(FpuExceptions.Overflow | FpuExceptions.Precision, r.Exceptions);
        Assert.AreEqual(roundedUp, r.RoundedUp);
    }

    [TestMethod]
    public void UnmaskedOverflowDeliversTheResultWithExponentReducedBy24576()
    {
        var cw = FpuControlWord.Create(RoundingControl.Nearest, masks: FpuExceptions.All & ~FpuExceptions.Overflow);
        var r = BasicArithmetic.Multiply(new ExtendedReal(false, 0x7FFE, ExtendedReal.IntegerBit), Two, cw);
        Assert.AreEqual(new FpuResult(new ExtendedReal(false, 0x7FFF - 24576, ExtendedReal.IntegerBit), FpuExceptions.Overflow), r);
    }

    [TestMethod]
    public void MaskedUnderflowDeliversADenormalAndFlagsOnlyWhenInexact()
    {
        var smallest = new ExtendedReal(false, 1, ExtendedReal.IntegerBit);
        var half = PowerOfTwo(-1);
        var exact = BasicArithmetic.Multiply(smallest, half, Masked);
        Assert.AreEqual(new FpuResult(new ExtendedReal(false, 0, 1UL << 62), FpuExceptions.None), exact);

        var inexact = BasicArithmetic.Multiply(new ExtendedReal(false, 1, ExtendedReal.IntegerBit | 1), half, Masked);
        Assert.AreEqual(new ExtendedReal(false, 0, 1UL << 62), inexact.Value);
        Assert.AreEqual(FpuExceptions.Underflow | FpuExceptions.Precision, inexact.Exceptions);
    }

    [TestMethod]
    public void DenormalOperandRaisesDenormal()
    {
        var denormal = new ExtendedReal(false, 0, 1);
        var r = BasicArithmetic.Add(denormal, One, Masked);
        Assert.AreEqual(FpuExceptions.Denormal | FpuExceptions.Precision, r.Exceptions);
        Assert.AreEqual(One, r.Value);
    }

    [TestMethod]
    public void NaNPropagationFollowsTable4_7()
    {
        var snan = new ExtendedReal(false, 0x7FFF, ExtendedReal.IntegerBit | 5);
        var qnanSmall = new ExtendedReal(false, 0x7FFF, ExtendedReal.IntegerBit | ExtendedReal.QuietBit | 1);
        var qnanLarge = new ExtendedReal(true, 0x7FFF, ExtendedReal.IntegerBit | ExtendedReal.QuietBit | 2);
        Assert.AreEqual(new FpuResult(snan.Quieted(), FpuExceptions.Invalid), BasicArithmetic.Add(snan, One, Masked));
        Assert.AreEqual(new FpuResult(qnanSmall, FpuExceptions.Invalid), BasicArithmetic.Add(snan, qnanSmall, Masked));
        Assert.AreEqual(new FpuResult(qnanLarge, FpuExceptions.None), BasicArithmetic.Add(qnanSmall, qnanLarge, Masked));
    }

    [TestMethod]
    public void UnsupportedEncodingsAreInvalidOperands()
    {
        var unnormal = new ExtendedReal(false, 0x3FFF, 1UL << 62);
        var pseudoInfinity = new ExtendedReal(false, 0x7FFF, 0);
        var pseudoNaN = new ExtendedReal(false, 0x7FFF, 1);
        Assert.AreEqual(ExtendedRealClass.Unnormal, unnormal.Class);
        Assert.AreEqual(ExtendedRealClass.PseudoInfinity, pseudoInfinity.Class);
        Assert.AreEqual(ExtendedRealClass.PseudoNaN, pseudoNaN.Class);
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.Add(unnormal, One, Masked));
        Assert.AreEqual(FpuResult.Invalid, BasicArithmetic.Multiply(pseudoInfinity, One, Masked));
        Assert.AreEqual(new ComparisonResult(ComparisonRelation.Unordered, FpuExceptions.Invalid), Comparison.CompareUnordered(pseudoNaN, One));
        Assert.AreEqual(new ConditionCodes(false, false, false, false), Examine.Classify(unnormal));
    }

    [TestMethod]
    public void PseudoDenormalIsADenormalOperandAtExponentOne()
    {
        var pseudoDenormal = new ExtendedReal(false, 0, ExtendedReal.IntegerBit);
        Assert.AreEqual(ExtendedRealClass.PseudoDenormal, pseudoDenormal.Class);
        var r = BasicArithmetic.Add(pseudoDenormal, ExtendedReal.PositiveZero, Masked);
        Assert.AreEqual(new FpuResult(new ExtendedReal(false, 1, ExtendedReal.IntegerBit), FpuExceptions.Denormal), r);
    }

    [TestMethod]
    public void FpremGivesTheTruncatedQuotientsLowBits()
    {
        // 7 = 3 × 2 + 1: Q = 3, so C1 (Q0) and C3 (Q1) are set.
        var r = PartialRemainder.Fprem(Seven, Two, Masked);
        Assert.AreEqual(One, r.Value);
        Assert.AreEqual(new ConditionCodes(false, true, false, true), r.ConditionCodes);
    }

    [TestMethod]
    public void Fprem1RoundsTheQuotientToEven()
    {
        // 7 ÷ 2 = 3.5 rounds to 4, leaving −1; Q = 4 sets C0 (Q2).
        var r = PartialRemainder.Fprem1(Seven, Two, Masked);
        Assert.AreEqual(One.Negate(), r.Value);
        Assert.AreEqual(new ConditionCodes(true, false, false, false), r.ConditionCodes);
    }

    [TestMethod]
    public void FpremIsPartialWhenTheExponentsDifferBy64OrMore()
    {
        var r = PartialRemainder.Fprem(PowerOfTwo(100), Seven, Masked);
        Assert.IsTrue(r.Incomplete);
        Assert.IsTrue(r.Value.Exponent <= ExtendedReal.ExponentBias + 100 - 32);
    }

    [TestMethod]
    public void FxtractOfZeroGivesNegativeInfinityAndZeroDivide()
    {
        var r = ExtractExponent.Extract(ExtendedReal.NegativeZero);
        Assert.AreEqual(new ExtractResult(ExtendedReal.NegativeInfinity, ExtendedReal.NegativeZero, FpuExceptions.ZeroDivide), r);
        var eight = ExtractExponent.Extract(IntegerConversion.FromInt64(-12));
        Assert.AreEqual(IntegerConversion.FromInt64(3), eight.Exponent);
        Assert.AreEqual(new ExtendedReal(true, 0x3FFF, 0xC000_0000_0000_0000), eight.Significand);
    }

    [TestMethod]
    public void IntegerStoresOutOfRangeGiveTheIntegerIndefinite()
    {
        Assert.AreEqual(new ConversionResult(0x8000, FpuExceptions.Invalid), IntegerConversion.ToInt16(IntegerConversion.FromInt64(32768), Masked));
        Assert.AreEqual(new ConversionResult(0x8000, FpuExceptions.None), IntegerConversion.ToInt16(IntegerConversion.FromInt64(-32768), Masked));
        Assert.AreEqual(new ConversionResult(0x8000_0000, FpuExceptions.Invalid), IntegerConversion.ToInt32(ExtendedReal.RealIndefinite, Masked));
        Assert.AreEqual(new ConversionResult(2, FpuExceptions.Precision, true), IntegerConversion.ToInt64(new ExtendedReal(false, 0x3FFF, 0xC000_0000_0000_0000), Masked));
        Assert.AreEqual(new ConversionResult(1, FpuExceptions.Precision), IntegerConversion.TruncateToInt64(new ExtendedReal(false, 0x3FFF, 0xC000_0000_0000_0000)));
    }

    [TestMethod]
    public void PackedBcdRoundTripsAndOverflowsToTheIndefinite()
    {
        var bcd = new PackedBcd(0x8012, 0x3456_7890_1234_5678);
        var value = BcdConversion.Load(bcd);
        Assert.AreEqual(IntegerConversion.FromInt64(-123_456_789_012_345_678), value);
        Assert.AreEqual(new BcdResult(bcd, FpuExceptions.None), BcdConversion.Store(value, Masked));
        Assert.AreEqual(new BcdResult(PackedBcd.Indefinite, FpuExceptions.Invalid), BcdConversion.Store(IntegerConversion.FromInt64(1_000_000_000_000_000_000), Masked));
        Assert.AreEqual("FFFFC000000000000000", PackedBcd.Indefinite.ToString());
    }

    [TestMethod]
    public void Binary32StoreQuietsSignalingNaNsAndLoadsAreExact()
    {
        var snan = new ExtendedReal(false, 0x7FFF, ExtendedReal.IntegerBit | (1UL << 40));
        Assert.AreEqual(new ConversionResult(0x7FC0_0001, FpuExceptions.Invalid), RealConversion.ToBinary32(snan, Masked));
        Assert.AreEqual(new FpuResult(new ExtendedReal(false, 0x3FFF - 149, ExtendedReal.IntegerBit), FpuExceptions.Denormal), RealConversion.FromBinary32(1));
        Assert.AreEqual(new ConversionResult(0x3FF0_0000_0000_0000, FpuExceptions.None), RealConversion.ToBinary64(One, Masked));
    }

    [TestMethod]
    public void ComparisonsOrderZerosEqualAndNaNsUnordered()
    {
        Assert.AreEqual(new ComparisonResult(ComparisonRelation.Equal, FpuExceptions.None), Comparison.Compare(ExtendedReal.PositiveZero, ExtendedReal.NegativeZero));
        Assert.AreEqual(new ComparisonResult(ComparisonRelation.Less, FpuExceptions.None), Comparison.Compare(One.Negate(), ExtendedReal.PositiveZero));
        Assert.AreEqual(new ComparisonResult(ComparisonRelation.Unordered, FpuExceptions.Invalid), Comparison.Compare(ExtendedReal.RealIndefinite, One));
        Assert.AreEqual(new ComparisonResult(ComparisonRelation.Unordered, FpuExceptions.None), Comparison.CompareUnordered(ExtendedReal.RealIndefinite, One));
    }

    [TestMethod]
    public void TenByteMemoryImageIsSignificandFirst()
    {
        Span<byte> bytes = stackalloc byte[10];
        ExtendedReal.RealIndefinite.Write(bytes);
        CollectionAssert.AreEqual(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF }, bytes.ToArray());
        Assert.AreEqual(ExtendedReal.RealIndefinite, ExtendedReal.Read(bytes));
    }
}
