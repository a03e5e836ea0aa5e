using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>MXCSR rounding, DAZ, FTZ, exception flags and the NaN rules of SDM vol. 1, 4.8.3.5, 4.9 and 11.5.</summary>
[TestClass]
public sealed class SseFloatingPointTests
{
    private const uint DefaultMxcsr = 0x1F80;

    /// <summary>Runs one instruction after loading MXCSR from the data area; XMM0/XMM1 preset by <paramref name="setup"/>.</summary>
    private static GuestRunner Run(uint mxcsr, Action<Iced.Intel.Assembler> body, Action<Processor> setup)
    {
        var g = SimdGuest.Long(a =>
        {
            a.ldmxcsr(__dword_ptr[rsi]);
            body(a);
        });
        g.Memory.Write(Data, 4, mxcsr);
        setup(g.Cpu);
        RunToEnd(g);
        return g;
    }

    [TestMethod]
    [DataRow(0u, 2, 2, -2)]
    [DataRow(1u, 1, 2, -2)]
    [DataRow(2u, 2, 3, -1)]
    [DataRow(3u, 1, 2, -1)]
    public void ConversionRoundsPerMxcsrRc(uint rc, int at1_5, int at2_5, int atMinus1_5)
    {
        foreach (var (input, expected) in new[] { (1.5f, at1_5), (2.5f, at2_5), (-1.5f, atMinus1_5) })
        {
            using var g = Run(DefaultMxcsr | (rc << 13), a => a.cvtss2si(eax, xmm0), c => SetSingles(c, 0, input));
            Assert.AreEqual(expected, (int)g.Cpu.Rax, $"RC={rc} input={input}");
            Assert.AreEqual(0x20u, g.Cpu.Mxcsr & 0x3F, "PE");
        }
    }

    [TestMethod]
    public void TruncatingConversionIgnoresRcAndOutOfRangeGivesIndefinite()
    {
        using (var g = Run(DefaultMxcsr | (2 << 13), a => a.cvttss2si(eax, xmm0), c => SetSingles(c, 0, -2.75f)))
            Assert.AreEqual(-2, (int)g.Cpu.Rax);
        using (var g = Run(DefaultMxcsr, a => a.cvtsd2si(eax, xmm0), c => SetXmm(c, 0, BitConverter.DoubleToUInt64Bits(3e9), 0)))
        {
            Assert.AreEqual(0x80000000UL, g.Cpu.Rax);
            Assert.AreEqual(1u, g.Cpu.Mxcsr & 0x3F, "IE");
        }
    }

    [TestMethod]
    public void DenormalOperandSetsDeWithoutDazAndCountsAsZeroWithDaz()
    {
        const uint denormal = 0x0000_0001;
        using (var g = Run(DefaultMxcsr, a => a.addss(xmm0, xmm1), c => { SetXmm(c, 0, 0, 0); SetXmm(c, 1, denormal, 0); }))
        {
            Assert.AreEqual(denormal, Dword(g.Cpu, 0, 0));
            Assert.AreEqual(2u, g.Cpu.Mxcsr & 0x3F, "DE only: the exact denormal result is not an underflow while UM is masked");
        }
        using (var g = Run(DefaultMxcsr | 0x40, a => a.addss(xmm0, xmm1), c => { SetXmm(c, 0, 0, 0); SetXmm(c, 1, denormal | 0x8000_0000, 0); }))
        {
            Assert.AreEqual(0u, Dword(g.Cpu, 0, 0), "+0 + −0 = +0");
            Assert.AreEqual(0u, g.Cpu.Mxcsr & 0x3F, "no DE under DAZ");
        }
    }

    [TestMethod]
    public void DivideByZeroOutranksADenormalDividend()
    {
        using var g = Run(DefaultMxcsr, a => a.divss(xmm0, xmm1), c => { SetXmm(c, 0, 0x8000_8000, 0); SetXmm(c, 1, 0, 0); });
        Assert.AreEqual(0xFF80_0000u, Dword(g.Cpu, 0, 0), "−∞");
        Assert.AreEqual(4u, g.Cpu.Mxcsr & 0x3F, "ZE alone (SDM vol. 1, 4.9.2: class 3 before the denormal operand)");
    }

    [TestMethod]
    public void Sse3HorizontalAndAddSubtract()
    {
        using var g = Run(DefaultMxcsr, a => { a.haddps(xmm0, xmm1); a.addsubpd(xmm2, xmm3); a.movshdup(xmm4, xmm1); }, c =>
        {
            SetSingles(c, 0, 1, 2, 3, 4);
            SetSingles(c, 1, 10, 20, 30, 40);
            SetXmm(c, 2, BitConverter.DoubleToUInt64Bits(5), BitConverter.DoubleToUInt64Bits(5));
            SetXmm(c, 3, BitConverter.DoubleToUInt64Bits(1), BitConverter.DoubleToUInt64Bits(1));
        });
        Assert.AreEqual(Pair(3, 7), Qword(g.Cpu, 0, 0));
        Assert.AreEqual(Pair(30, 70), Qword(g.Cpu, 0, 1));
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(4), Qword(g.Cpu, 2, 0));
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(6), Qword(g.Cpu, 2, 1));
        Assert.AreEqual(Pair(20, 20), Qword(g.Cpu, 4, 0));
    }

    [TestMethod]
    public void TinyResultUnderFtzIsZeroWithUnderflowAndPrecision()
    {
        using (var g = Run(DefaultMxcsr | 0x8000, a => a.mulss(xmm0, xmm1), c => { SetSingles(c, 0, 1e-30f); SetSingles(c, 1, -1e-10f); }))
        {
            Assert.AreEqual(0x8000_0000u, Dword(g.Cpu, 0, 0));
            Assert.AreEqual(0x30u, g.Cpu.Mxcsr & 0x3F);
        }
        using (var g = Run(DefaultMxcsr, a => a.mulss(xmm0, xmm1), c => { SetSingles(c, 0, 1e-30f); SetSingles(c, 1, -1e-10f); }))
        {
            Assert.AreEqual(Bits(1e-30f * -1e-10f), Dword(g.Cpu, 0, 0), "the denormal result");
            Assert.AreEqual(0x30u, g.Cpu.Mxcsr & 0x3F);
        }
    }

    [TestMethod]
    public void OverflowGivesInfinityOrLargestFinitePerRc()
    {
        using (var g = Run(DefaultMxcsr, a => a.mulss(xmm0, xmm1), c => { SetSingles(c, 0, 3e38f); SetSingles(c, 1, 10f); }))
        {
            Assert.AreEqual(Bits(float.PositiveInfinity), Dword(g.Cpu, 0, 0));
            Assert.AreEqual(0x28u, g.Cpu.Mxcsr & 0x3F, "OE and PE");
        }
        using (var g = Run(DefaultMxcsr | (3 << 13), a => a.mulss(xmm0, xmm1), c => { SetSingles(c, 0, 3e38f); SetSingles(c, 1, 10f); }))
            Assert.AreEqual(Bits(float.MaxValue), Dword(g.Cpu, 0, 0));
    }

    [TestMethod]
    public void ExactZeroDifferenceIsNegativeOnlyRoundingDown()
    {
        using (var g = Run(DefaultMxcsr | (1 << 13), a => a.subss(xmm0, xmm0), c => SetSingles(c, 0, 5f)))
            Assert.AreEqual(0x8000_0000u, Dword(g.Cpu, 0, 0));
        using (var g = Run(DefaultMxcsr, a => a.subss(xmm0, xmm0), c => SetSingles(c, 0, 5f)))
            Assert.AreEqual(0u, Dword(g.Cpu, 0, 0));
    }

    [TestMethod]
    public void NaNRulesFirstSourceWinsSignalingIsQuietedInvalidGivesIndefinite()
    {
        const uint qnanA = 0x7FC0_0001, qnanB = 0xFFC0_0002, snanB = 0x7F80_0003;
        using (var g = Run(DefaultMxcsr, a => a.addps(xmm0, xmm1), c =>
        {
            SetXmm(c, 0, qnanA | ((ulong)Bits(1) << 32), Pair(float.PositiveInfinity, 2));
            SetXmm(c, 1, qnanB | ((ulong)snanB << 32), Pair(float.NegativeInfinity, 3));
        }))
        {
            Assert.AreEqual(qnanA, Dword(g.Cpu, 0, 0), "both QNaN: the first source");
            Assert.AreEqual(snanB | 0x0040_0000u, Dword(g.Cpu, 0, 1), "an SNaN quieted");
            Assert.AreEqual(0xFFC0_0000u, Dword(g.Cpu, 0, 2), "∞ − ∞: the QNaN floating-point indefinite");
            Assert.AreEqual(Bits(5), Dword(g.Cpu, 0, 3));
            Assert.AreEqual(1u, g.Cpu.Mxcsr & 0x3F, "IE");
        }
        using (var g = Run(DefaultMxcsr, a => a.mulsd(xmm0, xmm1), c =>
        {
            SetXmm(c, 0, 0x7FF0_0000_0000_0001, 7);
            SetXmm(c, 1, 0x7FF8_0000_0000_0002, 0);
        }))
        {
            Assert.AreEqual(0x7FF8_0000_0000_0001UL, Qword(g.Cpu, 0, 0), "SNaN first source wins over QNaN second, quieted");
            Assert.AreEqual(7UL, Qword(g.Cpu, 0, 1), "scalar: high lane kept");
        }
    }

    [TestMethod]
    public void MinAndMaxReturnTheSecondSourceForNaNAndZeros()
    {
        using var g = Run(DefaultMxcsr, a => a.minps(xmm0, xmm1), c =>
        {
            SetXmm(c, 0, 0x7FC0_0000 | ((ulong)Bits(-0f) << 32), Pair(1, 4));
            SetXmm(c, 1, Bits(3) | ((ulong)Bits(0f) << 32), Pair(2, 0x7FC0_0000));
        });
        Assert.AreEqual(Bits(3), Dword(g.Cpu, 0, 0));
        Assert.AreEqual(0u, Dword(g.Cpu, 0, 1), "min(−0, +0) = +0, the second source");
        Assert.AreEqual(Bits(1), Dword(g.Cpu, 0, 2));
        Assert.AreEqual(1u, g.Cpu.Mxcsr & 0x3F, "a QNaN operand is invalid for MIN");
    }

    [TestMethod]
    public void ComissSignalsOnQuietNaNUcomissDoesNotAndFlagsAreUnordered()
    {
        foreach (var ordered in new[] { true, false })
        {
            using var g = Run(DefaultMxcsr, a => { if (ordered) a.comiss(xmm0, xmm1); else a.ucomiss(xmm0, xmm1); },
                c => { SetXmm(c, 0, 0x7FC0_0000, 0); SetSingles(c, 1, 1); });
            Assert.AreEqual(Rflags.ZF | Rflags.PF | Rflags.CF, g.Cpu.Flags & Rflags.Status);
            Assert.AreEqual(ordered ? 1u : 0u, g.Cpu.Mxcsr & 0x3F);
        }
        using (var g = Run(DefaultMxcsr, a => a.comisd(xmm0, xmm1), c => { SetXmm(c, 0, BitConverter.DoubleToUInt64Bits(1), 0); SetXmm(c, 1, BitConverter.DoubleToUInt64Bits(2), 0); }))
            Assert.AreEqual(Rflags.CF, g.Cpu.Flags & Rflags.Status);
    }

    [TestMethod]
    public void ComparePredicatesGiveMasks()
    {
        using var g = Run(DefaultMxcsr, a => a.cmpps(xmm0, xmm1, 1), c =>
        {
            SetSingles(c, 0, 1, 2, 3, 0);
            SetXmm(c, 1, Pair(2, 2), 0x7FC0_0000UL | ((ulong)Bits(1) << 32));
        });
        Assert.AreEqual(uint.MaxValue, Dword(g.Cpu, 0, 0));
        Assert.AreEqual(0u, Dword(g.Cpu, 0, 1));
        Assert.AreEqual(0u, Dword(g.Cpu, 0, 2), "unordered: LT false");
        Assert.AreEqual(uint.MaxValue, Dword(g.Cpu, 0, 3));
        Assert.AreEqual(1u, g.Cpu.Mxcsr & 0x3F, "LT signals on a QNaN");
    }

    [TestMethod]
    public void SquareRootAndDivisionAreCorrectlyRounded()
    {
        using var g = Run(DefaultMxcsr, a => { a.sqrtsd(xmm0, xmm0); a.divsd(xmm1, xmm2); }, c =>
        {
            SetXmm(c, 0, BitConverter.DoubleToUInt64Bits(2), 0);
            SetXmm(c, 1, BitConverter.DoubleToUInt64Bits(1), 0);
            SetXmm(c, 2, BitConverter.DoubleToUInt64Bits(3), 0);
        });
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(Math.Sqrt(2)), Qword(g.Cpu, 0, 0));
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(1.0 / 3), Qword(g.Cpu, 1, 0));
        Assert.AreEqual(0x20u, g.Cpu.Mxcsr & 0x3F);
    }

    [TestMethod]
    public void ConversionsBetweenPrecisionsKeepNaNPayloads()
    {
        using var g = Run(DefaultMxcsr, a => { a.cvtss2sd(xmm0, xmm0); a.cvtsd2ss(xmm1, xmm1); a.cvtdq2ps(xmm2, xmm2); }, c =>
        {
            SetXmm(c, 0, 0x7F80_0001, 0);
            SetXmm(c, 1, BitConverter.DoubleToUInt64Bits(0.1), 0);
            SetXmm(c, 2, 16777217UL | (0xFFFF_FFFFUL << 32), 0);
        });
        Assert.AreEqual(0x7FF8_0000_2000_0000UL, Qword(g.Cpu, 0, 0), "SNaN payload shifted and quieted");
        Assert.AreEqual(Bits(0.1f), Dword(g.Cpu, 1, 0));
        Assert.AreEqual(Bits(16777216f), Dword(g.Cpu, 2, 0), "2^24 + 1 rounds to even");
        Assert.AreEqual(Bits(-1f), Dword(g.Cpu, 2, 1));
        Assert.AreEqual(0x21u, g.Cpu.Mxcsr & 0x3F, "IE from the SNaN, PE from the roundings");
    }
}
