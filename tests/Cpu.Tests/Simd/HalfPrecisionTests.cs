using Sim.Cpu.Simd;

namespace Sim.Cpu.Tests.Simd;

/// <summary>The F16C conversions' rules as SDM vol. 2 (VCVTPH2PS, VCVTPS2PH) and vol. 1, 14.4.1 state them.</summary>
[TestClass]
public sealed class HalfPrecisionTests
{
    private const uint Mxcsr = 0x1F80;

    private static (uint Result, uint Flags) ToSingle(ushort h)
    {
        uint flags = 0;
        return (SimdFloat.HalfToSingle(h, ref flags), flags);
    }

    private static (ushort Result, uint Flags) ToHalf(uint s, byte imm8, uint mxcsr = Mxcsr)
    {
        uint flags = 0;
        return (SimdFloat.SingleToHalf(s, imm8, mxcsr, ref flags), flags);
    }

    [TestMethod]
    public void HalfToSingleIsExact()
    {
        Assert.AreEqual((0x3F80_0000u, 0u), ToSingle(0x3C00));
        Assert.AreEqual((0x477F_E000u, 0u), ToSingle(0x7BFF), "65504");
        Assert.AreEqual((0x3380_0000u, 0u), ToSingle(0x0001), "the smallest denormal half is the normal single 2^−24, no DE");
        Assert.AreEqual((0xFF80_0000u, 0u), ToSingle(0xFC00));
        Assert.AreEqual((0x7FC0_2000u, SimdFloat.IE), ToSingle(0x7C01), "an SNaN is quieted with IE, its payload kept");
    }

    [TestMethod]
    public void SingleToHalfRoundsPerImm8OrMxcsr()
    {
        const uint justAboveOne = 0x3F80_0001;
        Assert.AreEqual((ushort)0x3C00, ToHalf(justAboveOne, 0).Result);
        Assert.AreEqual((ushort)0x3C01, ToHalf(justAboveOne, 2).Result, "imm8[1:0] = 10b: up");
        Assert.AreEqual((ushort)0x3C01, ToHalf(justAboveOne, 4, Mxcsr | (2 << 13)).Result, "imm8[2]: MXCSR.RC");
        Assert.AreEqual((ushort)0x3C00, ToHalf(justAboveOne, 2 | 4).Result, "imm8[2] overrides imm8[1:0]");
        Assert.AreEqual(SimdFloat.PE, ToHalf(justAboveOne, 0).Flags);
    }

    [TestMethod]
    public void OverflowAndUnderflowOfTheHalfRange()
    {
        Assert.AreEqual(((ushort)0x7C00, SimdFloat.OE | SimdFloat.PE), ToHalf(0x477F_F000, 0), "65520 rounds to +∞");
        Assert.AreEqual(((ushort)0x7BFF, SimdFloat.PE), ToHalf(0x477F_F000, 3), "toward zero 65520 is 65504: no overflow");
        Assert.AreEqual(((ushort)0x7BFF, SimdFloat.OE | SimdFloat.PE), ToHalf(0x4780_0000, 3), "65536 toward zero: the largest finite half");
        Assert.AreEqual(((ushort)0x0001, 0u), ToHalf(0x3380_0000, 0, Mxcsr | 0x8000), "an exact denormal half; FTZ is ignored");
        Assert.AreEqual(((ushort)0x0000, SimdFloat.UE | SimdFloat.PE), ToHalf(0x3300_0000, 0), "2^−25 ties to the even zero");
    }

    [TestMethod]
    public void DenormalSinglesRaiseDeOrAreZeroUnderDaz()
    {
        Assert.AreEqual(((ushort)0x0000, SimdFloat.DE | SimdFloat.UE | SimdFloat.PE), ToHalf(0x0000_0001, 0));
        Assert.AreEqual(((ushort)0x8000, 0u), ToHalf(0x8000_0001, 0, Mxcsr | 0x40));
        Assert.AreEqual(((ushort)0x7E01, SimdFloat.IE), ToHalf(0x7F80_2000, 0), "an SNaN: quieted, the high payload kept");
    }
}
