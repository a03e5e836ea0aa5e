using Sim.Cpu.Registers;
using Sim.Cpu.X87;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Xsave.XsaveGuest;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// XRSTOR and XRSTORS (SDM vol. 2; vol. 1, 13.8 and 13.12): loading from the standard and compacted formats, the
/// initial configuration of each component RFBM names but XSTATE_BV does not (x87: FCW 037FH, FSW 0, tags empty,
/// registers and pointers 0; SSE: XMM 0; AVX: upper halves 0), MXCSR's two rules, and the header checks.
/// </summary>
[TestClass]
public sealed class XrstorTests
{
    /// <summary>An image at <see cref="XsaveGuest.Area"/> with every component distinct from <see cref="XsaveGuest.FillState"/>.</summary>
    private static void WriteImage(GuestRunner g, ulong xstateBv, ulong xcompBv = 0, uint mxcsr = 0x1FA0)
    {
        g.Memory.Write(Area, 2, 0x0363);
        g.Memory.Write(Area + 2, 2, 0x3004);
        g.Memory.Write(Area + 4, 1, 0x0F);
        g.Memory.Write(Area + 6, 2, 0xFFFF);
        g.Memory.Write(Area + 8, 8, 0xAAAA_BBBB_CCCC_DDDD);
        g.Memory.Write(Area + 16, 8, 0x1111_2222_3333_4444);
        g.Memory.Write(Area + 24, 4, mxcsr);
        for (var i = 0; i < 8; i++)
        {
            g.Memory.Write(Area + 32 + 16 * (ulong)i, 8, 0xC000_0000_0000_0000UL | (uint)i);
            g.Memory.Write(Area + 40 + 16 * (ulong)i, 2, (ulong)(0x4000 + i));
        }
        for (var r = 0; r < 16; r++)
        {
            g.Memory.Write(Area + 160 + 16 * (ulong)r, 8, 0x0101_0101_0101_0101UL * (ulong)(r + 1));
            g.Memory.Write(Area + 168 + 16 * (ulong)r, 8, 0x0202_0202_0202_0202UL * (ulong)(r + 1));
            g.Memory.Write(Area + 576 + 16 * (ulong)r, 8, 0x0303_0303_0303_0303UL * (ulong)(r + 1));
            g.Memory.Write(Area + 584 + 16 * (ulong)r, 8, 0x0404_0404_0404_0404UL * (ulong)(r + 1));
        }
        Header(g, Area, xstateBv, xcompBv);
    }

    private static ulong Lane(Processor cpu, int r, int q) => BitConverter.ToUInt64(cpu.VectorRegister(r).Slice(8 * q, 8));

    private static void AssertX87Loaded(Processor cpu)
    {
        Assert.AreEqual(0x0363, cpu.FpuControlWord);
        Assert.AreEqual(0x3004, cpu.FpuStatusWord);
        Assert.AreEqual(0x0F, cpu.FpuAbridgedTagWord);
        Assert.AreEqual(0x07FF, cpu.FpuOpcode, "FOP keeps its 11 bits");
        Assert.AreEqual(0xAAAA_BBBB_CCCC_DDDDUL, cpu.FpuInstructionPointer, "64-bit FIP (XRSTOR64)");
        Assert.AreEqual(0x1111_2222_3333_4444UL, cpu.FpuDataPointer);
        for (var i = 0; i < 8; i++)
            Assert.AreEqual(new ExtendedReal((ushort)(0x4000 + i), 0xC000_0000_0000_0000UL | (uint)i), cpu.GetFpuRegister((6 + i) & 7), $"ST{i} into R{(6 + i) & 7} (TOP = 6)");
    }

    private static void AssertX87Initial(Processor cpu)
    {
        Assert.AreEqual(0x037F, cpu.FpuControlWord);
        Assert.AreEqual(0, cpu.FpuStatusWord);
        Assert.AreEqual(0, cpu.FpuAbridgedTagWord, "all tags empty");
        Assert.AreEqual(0, cpu.FpuOpcode);
        Assert.AreEqual(0UL, cpu.FpuInstructionPointer);
        Assert.AreEqual(0UL, cpu.FpuDataPointer);
        Assert.AreEqual(0, cpu.FpuInstructionSelector);
        Assert.AreEqual(0, cpu.FpuDataSelector);
        for (var i = 0; i < 8; i++) Assert.AreEqual(default(ExtendedReal), cpu.GetFpuRegister(i), $"R{i}");
    }

    [TestMethod]
    public void StandardFormLoadsEveryComponent()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, 7);
        RunToEnd(g);
        AssertX87Loaded(g.Cpu);
        Assert.AreEqual(0x1FA0u, g.Cpu.Mxcsr);
        for (var r = 0; r < 16; r++)
        {
            Assert.AreEqual(0x0101_0101_0101_0101UL * (ulong)(r + 1), Lane(g.Cpu, r, 0), $"XMM{r}");
            Assert.AreEqual(0x0202_0202_0202_0202UL * (ulong)(r + 1), Lane(g.Cpu, r, 1), $"XMM{r}");
            Assert.AreEqual(0x0303_0303_0303_0303UL * (ulong)(r + 1), Lane(g.Cpu, r, 2), $"YMM{r} upper");
            Assert.AreEqual(0x0404_0404_0404_0404UL * (ulong)(r + 1), Lane(g.Cpu, r, 3), $"YMM{r} upper");
        }
    }

    [TestMethod]
    public void ComponentsOutsideXstateBvGetTheirInitialConfigurationButMxcsrComesFromTheImage()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, 0);
        RunToEnd(g);
        AssertX87Initial(g.Cpu);
        Assert.AreEqual(0x1FA0u, g.Cpu.Mxcsr, "the standard form loads MXCSR whenever RFBM[1] or RFBM[2] is set");
        for (var r = 0; r < 16; r++)
            Assert.IsTrue(g.Cpu.VectorRegister(r).IndexOfAnyExcept((byte)0) < 0, $"YMM{r} zero");
    }

    [TestMethod]
    public void ComponentsOutsideRfbmAreLeftAlone()
    {
        using var g = Long(a => { Mask(a, 1); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        var before = g.Cpu.VectorRegister(3).ToArray();
        WriteImage(g, 7);
        RunToEnd(g);
        AssertX87Loaded(g.Cpu);
        Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr, "MXCSR kept: neither RFBM[1] nor RFBM[2]");
        CollectionAssert.AreEqual(before, g.Cpu.VectorRegister(3).ToArray());
    }

    [TestMethod]
    public void StandardFormLoadsMxcsrForAvxAlone()
    {
        using var g = Long(a => { Mask(a, 4); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        var xmm = g.Cpu.VectorRegister(0)[..16].ToArray();
        WriteImage(g, 4);
        RunToEnd(g);
        Assert.AreEqual(0x1FA0u, g.Cpu.Mxcsr, "RFBM[2] = 1 loads MXCSR in the standard form");
        CollectionAssert.AreEqual(xmm, g.Cpu.VectorRegister(0)[..16].ToArray(), "XMM0 kept");
        Assert.AreEqual(0x0303_0303_0303_0303UL, Lane(g.Cpu, 0, 2));
    }

    [TestMethod]
    public void CompactedFormLoadsMxcsrOnlyWithSseAndInitializesItTo1F80()
    {
        using (var g = Long(a => { Mask(a, 4); a.xrstor64(__[rsi]); }))
        {
            FillState(g.Cpu);
            WriteImage(g, 4, 0x8000_0000_0000_0004);
            RunToEnd(g);
            Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr, "the compacted form does not consider RFBM[2] for MXCSR");
            Assert.AreEqual(0x0303_0303_0303_0303UL, Lane(g.Cpu, 0, 2), "AVX first after the header");
        }
        using (var g = Long(a => { Mask(a, 6); a.xrstor64(__[rsi]); }))
        {
            FillState(g.Cpu);
            WriteImage(g, 4, 0x8000_0000_0000_0006);
            RunToEnd(g);
            Assert.AreEqual(0x1F80u, g.Cpu.Mxcsr, "SSE initialized: MXCSR 1F80H");
            Assert.AreEqual((0UL, 0UL), (Lane(g.Cpu, 5, 0), Lane(g.Cpu, 5, 1)), "XMM5 zero");
        }
    }

    [TestMethod]
    public void CompactedFormInitializesRequestedComponentsMissingFromXcompBv()
    {
        using var g = Long(a => { Mask(a, 7); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, 3, 0x8000_0000_0000_0003);
        RunToEnd(g);
        AssertX87Loaded(g.Cpu);
        Assert.AreEqual(0x1FA0u, g.Cpu.Mxcsr);
        for (var r = 0; r < 16; r++) Assert.AreEqual(0UL, Lane(g.Cpu, r, 2) | Lane(g.Cpu, r, 3), $"YMM{r} upper half initialized (FORCE_INIT)");
    }

    [TestMethod]
    public void XsavecImageRoundTripsThroughCompactedXrstor()
    {
        using var g = Long(a =>
        {
            Mask(a, ulong.MaxValue);
            a.xsavec64(__[rsi]);
            a.fninit();
            a.pxor(xmm0, xmm0);
            a.xrstor64(__[rsi]);
        });
        FillState(g.Cpu);
        // XSAVEC writes only XSTATE_BV and XCOMP_BV of the header; the compacted XRSTOR wants bytes 63:16 zero.
        Header(g, Area, 0);
        var expected = g.Cpu.VectorRegister(0).ToArray();
        RunToEnd(g);
        Assert.AreEqual(0x027A, g.Cpu.FpuControlWord);
        Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr);
        CollectionAssert.AreEqual(expected, g.Cpu.VectorRegister(0).ToArray());
    }

    [TestMethod]
    public void XrstorsRestoresTheCompactedFormAtCpl0()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstors64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, 7, 0x8000_0000_0000_0007);
        RunToEnd(g);
        AssertX87Loaded(g.Cpu);
        Assert.AreEqual(0x0404_0404_0404_0404UL * 16, Lane(g.Cpu, 15, 3));
    }

    [TestMethod]
    public void Xrstor32BitFormatLoadsSelectors()
    {
        using var g = Long(a => { Mask(a, 1); a.xrstor(__[rsi]); });
        WriteImage(g, 1);
        g.Memory.Write(Area + 12, 2, 0x0023);
        g.Memory.Write(Area + 20, 2, 0x002B);
        RunToEnd(g);
        Assert.AreEqual(0xCCCC_DDDDUL, g.Cpu.FpuInstructionPointer, "FIP[31:0]");
        Assert.AreEqual(0x0023, g.Cpu.FpuInstructionSelector);
        Assert.AreEqual(0x3333_4444UL, g.Cpu.FpuDataPointer);
        Assert.AreEqual(0x002B, g.Cpu.FpuDataSelector);
    }

    [TestMethod]
    [DataRow(0UL, 0UL, 16, 0x01UL, DisplayName = "standard: header byte 16 (bytes 23:8 must be 0)")]
    [DataRow(0UL, 0UL, 8, 0x01UL, DisplayName = "standard: XCOMP_BV bit 0")]
    [DataRow(8UL, 0UL, -1, 0UL, DisplayName = "standard: XSTATE_BV bit 3, outside XCR0")]
    [DataRow(1UL << 63, 0UL, -1, 0UL, DisplayName = "standard: XSTATE_BV bit 63")]
    [DataRow(0UL, 0x8000_0000_0000_0008UL, -1, 0UL, DisplayName = "compacted: XCOMP_BV bit 3, outside XCR0")]
    [DataRow(4UL, 0x8000_0000_0000_0003UL, -1, 0UL, DisplayName = "compacted: XSTATE_BV bit 2 not in XCOMP_BV")]
    [DataRow(0UL, 0x8000_0000_0000_0003UL, 40, 0x01UL, DisplayName = "compacted: header byte 40 (bytes 63:16 must be 0)")]
    public void ReservedHeaderValuesFaultWithoutChangingState(ulong xstateBv, ulong xcompBv, int reservedByte, ulong value)
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, xstateBv, xcompBv);
        if (reservedByte >= 0) g.Memory.Write(Area + 512 + (ulong)reservedByte, 1, value);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x027A, g.Cpu.FpuControlWord, "x87 state unchanged");
        Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr);
    }

    [TestMethod]
    public void StandardFormIgnoresHeaderBytes63To24()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstor64(__[rsi]); });
        WriteImage(g, 7);
        g.Memory.Write(Area + 512 + 24, 8, ulong.MaxValue);
        RunToEnd(g);
        AssertX87Loaded(g.Cpu);
    }

    [TestMethod]
    [DataRow(7UL, 0UL, true, DisplayName = "standard, MXCSR loaded")]
    [DataRow(1UL, 0UL, false, DisplayName = "standard, RFBM = x87: MXCSR not loaded, no fault")]
    [DataRow(7UL, 0x8000_0000_0000_0007UL, true, DisplayName = "compacted, SSE loaded")]
    public void ReservedMxcsrBitsFaultOnlyWhenMxcsrIsLoaded(ulong mask, ulong xcompBv, bool faults)
    {
        using var g = Long(a => { Mask(a, mask); a.xrstor64(__[rsi]); });
        FillState(g.Cpu);
        WriteImage(g, 7, xcompBv, mxcsr: 0x0001_1F80);
        if (faults)
        {
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
            Assert.AreEqual(0x027A, g.Cpu.FpuControlWord, "nothing loaded");
            Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr);
        }
        else
        {
            RunToEnd(g);
            Assert.AreEqual(0x0363, g.Cpu.FpuControlWord);
        }
    }

    [TestMethod]
    public void XrstorsRejectsTheStandardForm()
    {
        using var g = Long(a => { Mask(a, ulong.MaxValue); a.xrstors64(__[rsi]); });
        WriteImage(g, 7);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
    }
}
