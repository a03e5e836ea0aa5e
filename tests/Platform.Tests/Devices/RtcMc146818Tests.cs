using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>The MC146818 against its datasheet: register formats, registers A–D and the PC's CMOS layout.</summary>
[TestClass]
public sealed class RtcMc146818Tests
{
    private const ulong Second = MachineClock.DefaultFrequencyHz;

    private static byte Bcd(int v) => (byte)(v / 10 << 4 | v % 10);

    private static byte ReadCmos(RtcMc146818 rtc, byte index)
    {
        rtc.Write(0x70, 1, index);
        return (byte)rtc.Read(0x71, 1);
    }

    private static void WriteCmos(RtcMc146818 rtc, byte index, byte value)
    {
        rtc.Write(0x70, 1, index);
        rtc.Write(0x71, 1, value);
    }

    [TestMethod]
    public void StartsAtTheConfiguredDateInBcd24Hour()
    {
        var clock = new MachineClock();
        var start = RtcMc146818.DefaultStartTime;
        var rtc = new RtcMc146818(clock);
        Assert.AreEqual(Bcd(start.Second), ReadCmos(rtc, 0x00));
        Assert.AreEqual(Bcd(start.Minute), ReadCmos(rtc, 0x02));
        Assert.AreEqual(Bcd(start.Hour), ReadCmos(rtc, 0x04));
        Assert.AreEqual((byte)((int)start.DayOfWeek + 1), ReadCmos(rtc, 0x06), "day of week counts Sunday as 1");
        Assert.AreEqual(Bcd(start.Day), ReadCmos(rtc, 0x07));
        Assert.AreEqual(Bcd(start.Month), ReadCmos(rtc, 0x08));
        Assert.AreEqual(Bcd(start.Year % 100), ReadCmos(rtc, 0x09));
        Assert.AreEqual(Bcd(start.Year / 100), ReadCmos(rtc, 0x32));
        Assert.AreEqual(0x80, ReadCmos(rtc, 0x0D), "VRT: the time is valid");
    }

    [TestMethod]
    public void TimeAdvancesWithSimulatedTimeOnly()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock, new DateTime(2026, 3, 31, 23, 59, 58));
        clock.AdvanceTo(2 * Second + Second / 2);
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x00));
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x04));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x07));
        Assert.AreEqual(0x04, ReadCmos(rtc, 0x08));
        clock.AdvanceTo(3661 * Second + 2 * Second);
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x00));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x02));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x04));
    }

    /// <summary>Sets the clock as the datasheet asks: SET, the format in register B, the ten bytes, then SET cleared.</summary>
    private static void SetClock(RtcMc146818 rtc, byte registerB, params (byte Index, byte Value)[] bytes)
    {
        WriteCmos(rtc, 0x0B, (byte)(registerB | 0x80));
        foreach (var (index, value) in bytes) WriteCmos(rtc, index, value);
        WriteCmos(rtc, 0x0B, registerB);
    }

    [TestMethod]
    public void BinaryAnd24HourModeCountsInBinary()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        SetClock(rtc, 0x06, (0x00, 59), (0x02, 59), (0x04, 13));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0, ReadCmos(rtc, 0x00));
        Assert.AreEqual(0, ReadCmos(rtc, 0x02));
        Assert.AreEqual(14, ReadCmos(rtc, 0x04));
    }

    [TestMethod]
    public void ChangingTheDataModeLeavesTheRegistersAsTheyAre()
    {
        // Datasheet: DM and 24/12 are not modified by internal functions; the chip converts nothing,
        // software initialises the time again in the new format.
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock, new DateTime(2026, 1, 1, 13, 45, 0));
        WriteCmos(rtc, 0x0B, 0x06);
        Assert.AreEqual(0x45, ReadCmos(rtc, 0x02));
        Assert.AreEqual(0x13, ReadCmos(rtc, 0x04));
    }

    [TestMethod]
    public void TwelveHourModeGoesFrom1159AmTo12PmAndFrom1159PmTo12AmOfTheNextDay()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        SetClock(rtc, 0x00, (0x00, 0x59), (0x02, 0x59), (0x04, 0x11), (0x07, 0x28), (0x08, 0x02), (0x09, 0x27));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0x92, ReadCmos(rtc, 0x04), "12 PM: bit 7 set, BCD 12");
        SetClock(rtc, 0x00, (0x00, 0x59), (0x02, 0x59), (0x04, 0x91));
        clock.AdvanceTo(2 * Second + 1);
        Assert.AreEqual(0x12, ReadCmos(rtc, 0x04), "12 AM");
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x07), "1 March");
        Assert.AreEqual(0x03, ReadCmos(rtc, 0x08));
    }

    [TestMethod]
    public void YearRollsOverFrom99To00AndLeavesTheCenturyByteAlone()
    {
        // The issue: 9999-12-31 23:59:59 plus one second overflowed a DateTime. The chip has a
        // two-digit year; the century byte 0x32 is CMOS RAM that only software writes.
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        SetClock(rtc, 0x02, (0x00, 0x59), (0x02, 0x59), (0x04, 0x23), (0x06, 0x06), (0x07, 0x31), (0x08, 0x12), (0x09, 0x99), (0x32, 0x99));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x00));
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x02));
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x04));
        Assert.AreEqual(0x07, ReadCmos(rtc, 0x06), "Friday to Saturday");
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x07));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x08));
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x09));
        Assert.AreEqual(0x99, ReadCmos(rtc, 0x32));
    }

    [TestMethod]
    public void StartingAt9999LastSecondRollsOver()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock, new DateTime(9999, 12, 31, 23, 59, 59));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x09));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x08));
        Assert.AreEqual(0x99, ReadCmos(rtc, 0x32));
    }

    [TestMethod]
    public void EveryYearDivisibleByFourIsALeapYear()
    {
        // Datasheet: leap-year compensation on the year register alone, so 00 is a leap year.
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        SetClock(rtc, 0x02, (0x00, 0x59), (0x02, 0x59), (0x04, 0x23), (0x07, 0x28), (0x08, 0x02), (0x09, 0x00));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0x29, ReadCmos(rtc, 0x07));
        Assert.AreEqual(0x02, ReadCmos(rtc, 0x08));
        // 366 days from 29 Feb 00: 1 Mar 01 (via 28 Feb 01, not a leap year).
        clock.AdvanceTo(Second + 1 + 366 * 86400 * Second);
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x07));
        Assert.AreEqual(0x03, ReadCmos(rtc, 0x08));
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x09));
    }

    [TestMethod]
    public void DayOfWeekCountsOneToSeven()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        SetClock(rtc, 0x02, (0x00, 0x59), (0x02, 0x59), (0x04, 0x23), (0x06, 0x07));
        clock.AdvanceTo(Second + 1);
        Assert.AreEqual(0x01, ReadCmos(rtc, 0x06));
    }

    [TestMethod]
    public void OutOfRangeValuesKeepCountingAndComeBackIntoRange()
    {
        // The datasheet leaves the update of values out of range undefined; the model counts on
        // deterministically and is back in range by the next carry of each register.
        foreach (var registerB in new byte[] { 0x00, 0x02, 0x04, 0x06 })
        {
            foreach (var junk in new byte[] { 0x00, 0x3C, 0x7F, 0x80, 0x99, 0xC5, 0xFF })
            {
                var clock = new MachineClock();
                var rtc = new RtcMc146818(clock);
                SetClock(rtc, registerB, (0x00, junk), (0x02, junk), (0x04, junk), (0x06, junk), (0x07, junk), (0x08, junk), (0x09, junk));
                clock.AdvanceTo(400 * 86400 * Second);
                bool binary = (registerB & 0x04) != 0;
                int Value(byte index)
                {
                    var b = ReadCmos(rtc, index);
                    return binary ? b : (b >> 4) * 10 + (b & 0xF);
                }
                var what = $"B={registerB:x2} junk={junk:x2}";
                Assert.IsTrue(Value(0x00) <= 59 && Value(0x02) <= 59, what);
                var hour = ReadCmos(rtc, 0x04);
                if ((registerB & 0x02) != 0) Assert.IsTrue(Value(0x04) <= 23, what);
                else Assert.IsTrue((binary ? hour & 0x7F : ((hour & 0x7F) >> 4) * 10 + (hour & 0xF)) is >= 1 and <= 12, what);
                Assert.IsTrue(Value(0x06) is >= 1 and <= 7, what);
                Assert.IsTrue(Value(0x07) is >= 1 and <= 31, what);
                Assert.IsTrue(Value(0x08) is >= 1 and <= 12, what);
                Assert.IsTrue(Value(0x09) <= 99, what);
            }
        }
    }

    [TestMethod]
    public void AlarmFlagIsSetWhenTheTimePassesTheAlarmDuringALongSkip()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        WriteCmos(rtc, 0x01, 0x00);
        WriteCmos(rtc, 0x03, 0x30);
        WriteCmos(rtc, 0x05, 0x05);
        ReadCmos(rtc, 0x0C);
        clock.AdvanceTo(3 * 86400 * Second);
        Assert.AreEqual(0x20, ReadCmos(rtc, 0x0C) & 0x20, "05:30:00 came round");
        clock.AdvanceTo(3 * 86400 * Second + 3600 * Second);
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x0C) & 0x20, "not in 00:00-01:00");
    }

    [TestMethod]
    public void ATimeEarlierThanOneAlreadySeenDoesNotRunTheClockBackwards()
    {
        // With several processors, the chip can be reached at a cycle before one it has already seen.
        var clock = new MachineClock();
        var now = 5 * Second;
        clock.TimeSource = () => now;
        var late = new RtcMc146818(clock);
        WriteCmos(late, 0x0B, 0x12);
        var seconds = ReadCmos(late, 0x00);
        now = 2 * Second;
        WriteCmos(late, 0x0B, 0x12);
        Assert.AreEqual(seconds, ReadCmos(late, 0x00));
        Assert.IsTrue(clock.NextDeadline > 5 * Second, "the next update is after the latest time seen");
    }

    [TestMethod]
    public void SetBitFreezesTimeAndWritesTakeEffect()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        WriteCmos(rtc, 0x0B, 0x82);
        WriteCmos(rtc, 0x00, 0x30);
        WriteCmos(rtc, 0x04, 0x17);
        clock.AdvanceTo(10 * Second);
        Assert.AreEqual(0x30, ReadCmos(rtc, 0x00), "SET stops the update cycle");
        WriteCmos(rtc, 0x0B, 0x02);
        clock.AdvanceTo(12 * Second + 1);
        Assert.AreEqual(0x32, ReadCmos(rtc, 0x00));
        Assert.AreEqual(0x17, ReadCmos(rtc, 0x04));
    }

    [TestMethod]
    public void UipIsSetOnlyInTheLast244MicrosecondsBeforeAnUpdate()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        clock.AdvanceTo(Second / 2);
        Assert.AreEqual(0, ReadCmos(rtc, 0x0A) & 0x80);
        clock.AdvanceTo(Second - 100_000);
        Assert.AreEqual(0x80, ReadCmos(rtc, 0x0A) & 0x80);
        Assert.AreEqual(0x26, ReadCmos(rtc, 0x0A) & 0x7F);
    }

    [TestMethod]
    public void UpdateEndedInterruptAndClearOnReadOfRegisterC()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        var levels = new List<bool>();
        rtc.IrqLevel = levels.Add;
        WriteCmos(rtc, 0x0B, 0x12);
        clock.AdvanceTo(Second / 2);
        Assert.AreEqual(0, levels.Count);
        clock.AdvanceTo(Second + 1);
        CollectionAssert.AreEqual(new[] { true }, levels);
        Assert.AreEqual(0x80 | 0x10, ReadCmos(rtc, 0x0C) & 0xB0, "IRQF and UF (PF runs at the default 1024 Hz regardless)");
        Assert.AreEqual(0x00, ReadCmos(rtc, 0x0C), "reading C clears it");
        Assert.IsFalse(levels[^1]);
    }

    [TestMethod]
    public void PeriodicFlagAt1024HzWithoutInterruptEnable()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        ReadCmos(rtc, 0x0C);
        clock.AdvanceTo(Second / 1024 / 2);
        Assert.AreEqual(0, ReadCmos(rtc, 0x0C));
        clock.AdvanceTo(Second / 1024 + 1);
        Assert.AreEqual(0x40, ReadCmos(rtc, 0x0C), "PF without PIE does not set IRQF");
    }

    [TestMethod]
    public void PeriodicInterruptRaisesIrq()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        var raised = 0;
        rtc.IrqLevel = level => raised += level ? 1 : 0;
        WriteCmos(rtc, 0x0A, 0x2F);
        WriteCmos(rtc, 0x0B, 0x42);
        for (var i = 1; i <= 4; i++)
        {
            clock.AdvanceTo((ulong)i * Second / 2 + 1);
            Assert.AreEqual(0xC0, ReadCmos(rtc, 0x0C) & 0xC0, "rate 15 is 2 Hz");
        }
        Assert.AreEqual(4, raised);
    }

    [TestMethod]
    public void WhileIrqfIsSetNoEventIsQueuedAndReadingCResumesThem()
    {
        // IRQF holds the IRQ pin asserted until register C is read; later periodic and update flags
        // change nothing a guest can see before that read, so a long halt costs no events.
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        var raised = 0;
        rtc.IrqLevel = level => raised += level ? 1 : 0;
        WriteCmos(rtc, 0x0A, 0x23);
        WriteCmos(rtc, 0x0B, 0x52);
        clock.AdvanceTo(Second / 8192 + 1);
        Assert.AreEqual(1, raised);
        Assert.IsNull(clock.NextDeadline);
        clock.AdvanceTo(10 * 86400 * Second);
        Assert.AreEqual(0xF0, ReadCmos(rtc, 0x0C), "IRQF, PF, AF (the alarm bytes are 00:00:00, and midnight came round) and UF");
        Assert.IsNotNull(clock.NextDeadline);
        clock.AdvanceTo(10 * 86400 * Second + Second / 8192 + 1);
        Assert.AreEqual(2, raised);
    }

    [TestMethod]
    public void AlarmInterruptComesWithTheUpdateThatReachesTheAlarmTime()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock);
        var raisedAt = new List<ulong>();
        rtc.IrqLevel = level => { if (level) raisedAt.Add(clock.Now); };
        WriteCmos(rtc, 0x01, 0x30);
        WriteCmos(rtc, 0x03, 0x01);
        WriteCmos(rtc, 0x05, 0xC0);
        WriteCmos(rtc, 0x0B, 0x22);
        clock.AdvanceTo(2 * 3600 * Second);
        CollectionAssert.AreEqual(new[] { 90 * Second }, raisedAt, "00:01:30; the alarm hour is a don't-care");
        Assert.AreEqual(0xB0, ReadCmos(rtc, 0x0C) & 0xB0, "IRQF, AF and UF");
        clock.AdvanceTo(4 * 3600 * Second);
        CollectionAssert.AreEqual(new[] { 90 * Second, 7290 * Second }, raisedAt, "01:01:30 came while IRQF was still set; after the read at 02:00 the next is 02:01:30");
    }

    [TestMethod]
    public void IndexPortBit7DisablesNmi()
    {
        var rtc = new RtcMc146818(new MachineClock());
        rtc.Write(0x70, 1, 0x8F);
        Assert.IsTrue(rtc.NmiDisabled);
        rtc.Write(0x71, 1, 0x5A);
        rtc.Write(0x70, 1, 0x0F);
        Assert.IsFalse(rtc.NmiDisabled);
        Assert.AreEqual(0x5Au, rtc.Read(0x71, 1));
    }

    [TestMethod]
    public void MemorySizeFieldsFollowTheRamSize()
    {
        var rtc = new RtcMc146818(new MachineClock());
        const ulong ram = 64UL << 20;
        rtc.SetMemorySize(ram);
        int Word(byte i) => ReadCmos(rtc, i) | ReadCmos(rtc, (byte)(i + 1)) << 8;
        Assert.AreEqual(640, Word(0x15));
        Assert.AreEqual((int)((ram - (1 << 20)) / 1024), Word(0x17));
        Assert.AreEqual(Word(0x17), Word(0x30));
        Assert.AreEqual((int)((ram - (16 << 20)) / 65536), Word(0x34));
        var sum = 0;
        for (byte i = 0x10; i <= 0x2D; i++) sum += ReadCmos(rtc, i);
        Assert.AreEqual(sum, ReadCmos(rtc, 0x2E) << 8 | ReadCmos(rtc, 0x2F));
    }
}
