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

    [TestMethod]
    public void BinaryAnd12HourFormats()
    {
        var clock = new MachineClock();
        var rtc = new RtcMc146818(clock, new DateTime(2026, 1, 1, 13, 45, 0));
        WriteCmos(rtc, 0x0B, 0x06);
        Assert.AreEqual(45, ReadCmos(rtc, 0x02));
        Assert.AreEqual(13, ReadCmos(rtc, 0x04));
        WriteCmos(rtc, 0x0B, 0x00);
        Assert.AreEqual(0x80 | 0x01, ReadCmos(rtc, 0x04), "1 PM: bit 7 set, BCD 1");
        var midnight = new RtcMc146818(clock, new DateTime(2026, 1, 1, 0, 30, 0));
        WriteCmos(midnight, 0x0B, 0x00);
        Assert.AreEqual(0x12, ReadCmos(midnight, 0x04), "00:30 is 12 AM");
        WriteCmos(midnight, 0x0B, 0x04);
        Assert.AreEqual(12, ReadCmos(midnight, 0x04));
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
