using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>The ACPI fixed hardware registers against ACPI 6.5, section 4.8, in the PIIX4 layout at PMBA 600h.</summary>
[TestClass]
public sealed class AcpiPmRegistersTests
{
    private const ushort Sts = ChipsetLayout.Pm1aEventBlock, En = ChipsetLayout.Pm1aEventBlock + 2;
    private const ushort Cnt = ChipsetLayout.Pm1aControlBlock, Tmr = ChipsetLayout.PmTimerBlock;
    private const ulong Second = MachineClock.DefaultFrequencyHz;
    private const ulong HalfPeriodTicks = 1UL << 23;

    private static ulong CycleOfTick(ulong tick) => (ulong)(((UInt128)tick * Second + 3_579_545 - 1) / 3_579_545);

    private sealed record Rig(MachineClock Clock, AcpiPmRegisters Pm, List<(ulong Cycle, bool Level)> Sci);

    private static Rig Create(ulong frequencyHz = Second)
    {
        var clock = new MachineClock(frequencyHz);
        var pm = new AcpiPmRegisters(clock);
        var sci = new List<(ulong, bool)>();
        pm.SciLevel = level => sci.Add((clock.Now, level));
        return new Rig(clock, pm, sci);
    }

    [TestMethod]
    public void PmTimerAdvances3579545TicksPerSimulatedSecond()
    {
        // 4.8.3.3: 3.579545 MHz; a 24-bit counter (TMR_VAL_EXT = 0), bits 24–31 read as 0.
        var rig = Create();
        Assert.AreEqual(0u, rig.Pm.Read(Tmr, 4));
        rig.Clock.AdvanceTo(Second);
        Assert.AreEqual(3_579_545u, rig.Pm.Read(Tmr, 4));
        rig.Clock.AdvanceTo(5 * Second);
        Assert.AreEqual((uint)(5 * 3_579_545UL % (1 << 24)), rig.Pm.Read(Tmr, 4));
    }

    [TestMethod]
    public void PmTimerFollowsTheMachineClockFrequency()
    {
        var rig = Create(2_500_000_000);
        rig.Clock.AdvanceTo(2_500_000_000);
        Assert.AreEqual(3_579_545u, rig.Pm.PmTimer);
    }

    [TestMethod]
    public void PmTimerTicksAtTheExactCycles()
    {
        var rig = Create();
        foreach (var tick in new ulong[] { 1, 2, 3, 1000, 3_579_544, 3_579_546 })
        {
            rig.Clock.AdvanceTo(CycleOfTick(tick) - 1);
            Assert.AreEqual((uint)(tick - 1), rig.Pm.PmTimer, $"just before tick {tick}");
            rig.Clock.AdvanceTo(CycleOfTick(tick));
            Assert.AreEqual((uint)tick, rig.Pm.PmTimer, $"at tick {tick}");
        }
    }

    [TestMethod]
    public void PmTimerWrapsAt24BitsWithoutDriftAfterLongRuns()
    {
        var rig = Create();
        rig.Clock.AdvanceTo(CycleOfTick(1UL << 24));
        Assert.AreEqual(0u, rig.Pm.PmTimer);
        // 10 000 s: cycles · 3579545 no longer fits 64 bits, the timer must still be exact.
        rig.Clock.AdvanceTo(10_000 * Second);
        Assert.AreEqual((uint)(10_000 * 3_579_545UL % (1 << 24)), rig.Pm.PmTimer);
    }

    [TestMethod]
    public void PmTimerReadsAsBytesAndWords()
    {
        var rig = Create();
        rig.Clock.AdvanceTo(CycleOfTick(0xABCDEF));
        Assert.AreEqual(0xEFu, rig.Pm.Read(Tmr, 1));
        Assert.AreEqual(0xCDu, rig.Pm.Read(Tmr + 1, 1));
        Assert.AreEqual(0x00ABu, rig.Pm.Read(Tmr + 2, 2));
        rig.Pm.Write(Tmr, 4, 0);
        Assert.AreEqual(0xABCDEFu, rig.Pm.Read(Tmr, 4), "read-only");
    }

    [TestMethod]
    public void TmrStsIsSetWheneverBit23Toggles()
    {
        // 4.8.3.3 / 4.8.4.1.1: TMR_STS is set when the timer's bit 23 changes, and cleared by writing 1.
        var rig = Create();
        rig.Clock.AdvanceTo(CycleOfTick(HalfPeriodTicks) - 1);
        Assert.AreEqual(0u, rig.Pm.Read(Sts, 2) & 1);
        rig.Clock.AdvanceTo(CycleOfTick(HalfPeriodTicks));
        Assert.AreEqual(1u, rig.Pm.Read(Sts, 2) & 1, "0 → 1");
        rig.Pm.Write(Sts, 2, 0);
        Assert.AreEqual(1u, rig.Pm.Read(Sts, 2) & 1, "writing 0 leaves it");
        rig.Pm.Write(Sts, 2, 1);
        Assert.AreEqual(0u, rig.Pm.Read(Sts, 2) & 1, "writing 1 clears it");
        rig.Clock.AdvanceTo(CycleOfTick(2 * HalfPeriodTicks) - 1);
        Assert.AreEqual(0u, rig.Pm.Read(Sts, 2) & 1);
        rig.Clock.AdvanceTo(CycleOfTick(2 * HalfPeriodTicks));
        Assert.AreEqual(1u, rig.Pm.Read(Sts, 2) & 1, "1 → 0 at the 24-bit wrap");
        Assert.AreEqual(0, rig.Sci.Count, "no SCI without TMR_EN");
    }

    [TestMethod]
    public void TmrEnRaisesTheSciAtTheToggleUntilTmrStsIsCleared()
    {
        var rig = Create();
        rig.Pm.Write(En, 2, AcpiPmRegisters.TmrEn);
        Assert.AreEqual(CycleOfTick(HalfPeriodTicks), rig.Clock.NextDeadline);
        rig.Clock.AdvanceTo(3 * Second);
        CollectionAssert.AreEqual(new[] { (CycleOfTick(HalfPeriodTicks), true) }, rig.Sci);
        Assert.IsNull(rig.Clock.NextDeadline, "nothing to queue while TMR_STS is set");
        rig.Pm.Write(Sts, 1, 1);
        CollectionAssert.AreEqual(new[] { (CycleOfTick(HalfPeriodTicks), true), (3 * Second, false) }, rig.Sci);
        rig.Clock.AdvanceTo(CycleOfTick(2 * HalfPeriodTicks));
        Assert.AreEqual((CycleOfTick(2 * HalfPeriodTicks), true), rig.Sci[^1]);
        rig.Pm.Write(En, 2, 0);
        Assert.AreEqual(false, rig.Sci[^1].Level, "clearing TMR_EN lowers the SCI");
    }

    [TestMethod]
    public void EnableBitsReadBackAndSciFollowsThePowerButton()
    {
        var rig = Create();
        rig.Pm.Write(En, 2, 0xFFFF);
        Assert.AreEqual(0x0721u, rig.Pm.Read(En, 2), "TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN");
        rig.Pm.Write(En, 2, 0);
        rig.Pm.PressPowerButton();
        Assert.AreEqual((uint)AcpiPmRegisters.PwrBtnSts, rig.Pm.Read(Sts, 2));
        Assert.AreEqual(0, rig.Sci.Count);
        rig.Pm.Write(En + 1, 1, AcpiPmRegisters.PwrBtnEn >> 8);
        Assert.IsTrue(rig.Pm.Sci);
        rig.Pm.Write(Sts + 1, 1, AcpiPmRegisters.PwrBtnSts >> 8);
        Assert.IsFalse(rig.Pm.Sci);
    }

    [TestMethod]
    public void SciEnReadsSetOnAnAcpiOnlyPlatform()
    {
        // 4.8.10.1: without SMI_CMD the platform is ACPI-only, SCI_EN is always set. SLP_EN is write-only.
        var rig = Create();
        Assert.AreEqual(1u, rig.Pm.Read(Cnt, 2));
        rig.Pm.Write(Cnt, 2, 0);
        Assert.AreEqual(1u, rig.Pm.Read(Cnt, 2));
        rig.Pm.Write(Cnt, 2, 5u << 10 | 1u << 1 | 1u << 2);
        Assert.AreEqual(5u << 10 | 1u << 1 | 1u, rig.Pm.Read(Cnt, 2), "SLP_TYP and BM_RLD read back, GBL_RLS does not");
    }

    [TestMethod]
    public void SlpEnWithTheS5TypePowersOff()
    {
        var rig = Create();
        var offs = 0;
        rig.Pm.PowerOff = () => offs++;
        rig.Pm.Write(Cnt, 2, (uint)ChipsetLayout.SoftOffSleepType << 10);
        Assert.AreEqual(0, offs, "SLP_TYP alone does nothing");
        rig.Pm.Write(Cnt, 2, (uint)ChipsetLayout.SoftOffSleepType << 10 | 1u << 13);
        Assert.AreEqual(1, offs);
        Assert.AreEqual(0u, rig.Pm.Read(Cnt, 2) & 1u << 13, "SLP_EN reads as 0");
        rig.Pm.Write(Cnt + 1, 1, (uint)(ChipsetLayout.SoftOffSleepType << 2 | 1 << 5));
        Assert.AreEqual(2, offs, "a byte write to the upper half does it too");
    }

    [TestMethod]
    public void OtherSleepTypesWakeAtOnce()
    {
        var rig = Create();
        var offs = 0;
        rig.Pm.PowerOff = () => offs++;
        rig.Pm.Write(Cnt, 2, 1u << 10 | 1u << 13);
        Assert.AreEqual(0, offs);
        Assert.AreEqual((uint)AcpiPmRegisters.WakSts, rig.Pm.Read(Sts, 2) & AcpiPmRegisters.WakSts);
        rig.Pm.Write(Sts, 2, AcpiPmRegisters.WakSts);
        Assert.AreEqual(0u, rig.Pm.Read(Sts, 2));
    }

    [TestMethod]
    public void ReservedBytesReadAsZeroAndBytesPastTheBlockFloat()
    {
        var rig = Create();
        Assert.AreEqual(0u, rig.Pm.Read(Cnt + 2, 2));
        rig.Clock.AdvanceTo(CycleOfTick(0x12_3456));
        Assert.AreEqual(0xFFFF_0012u, rig.Pm.Read(Tmr + 2, 4));
    }
}
