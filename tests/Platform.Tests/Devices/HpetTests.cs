using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>
/// The HPET against the IA-PC HPET specification 1.0a (section numbers from it). At the default 1 GHz
/// a 10 MHz counter tick is 100 cycles, so tick n of an enabled counter is due 100·n cycles after the enable.
/// </summary>
[TestClass]
public sealed class HpetTests
{
    private const ulong Base = ChipsetLayout.HpetBase;
    private const ulong CyclesPerTick = 100;

    private const ulong Enable = 1, LegacyRoute = 2;
    private const ulong Level = 1 << 1, IntEnable = 1 << 2, Periodic = 1 << 3, ValSet = 1 << 6, Mode32 = 1 << 8;

    private static ulong Route(int gsi) => (ulong)gsi << 9;

    private sealed record Rig(MachineClock Clock, Hpet Hpet, List<(ulong Cycle, string Line, bool Level)> Edges);

    private static Rig Create(ulong frequencyHz = MachineClock.DefaultFrequencyHz)
    {
        var clock = new MachineClock(frequencyHz);
        var hpet = new Hpet(clock);
        var edges = new List<(ulong, string, bool)>();
        hpet.GsiLevel = (gsi, level) => edges.Add((clock.Now, $"GSI{gsi}", level));
        hpet.IsaIrqLevel = (irq, level) => edges.Add((clock.Now, $"IRQ{irq}", level));
        return new Rig(clock, hpet, edges);
    }

    private static ulong TimerRegister(int timer, int register) => Base + 0x100 + 0x20 * (ulong)timer + (ulong)register;

    private static void Write64(Hpet hpet, ulong address, ulong value) => hpet.Write(address, 8, value);

    private static ulong Read64(Hpet hpet, ulong address) => hpet.Read(address, 8);

    private static int Pulses(Rig rig, string line) => rig.Edges.Count(e => e.Line == line && e.Level);

    [TestMethod]
    public void CapabilitiesAnnounceThreeTimers64BitLegacyRouteIntelAnd10MHz()
    {
        // 2.3.4: REV_ID 1 (bits 0–7), NUM_TIM_CAP = last timer (8–12), COUNT_SIZE_CAP (13), LEG_RT_CAP (15),
        // VENDOR_ID (16–31), COUNTER_CLK_PERIOD in fs (32–63).
        var rig = Create();
        Assert.AreEqual(0x05F5_E100_8086_A201UL, Read64(rig.Hpet, Base));
        Assert.AreEqual(0x8086_A201UL, rig.Hpet.Read(Base, 4));
        Assert.AreEqual(100_000_000UL, rig.Hpet.Read(Base + 4, 4));
        Write64(rig.Hpet, Base, 0);
        Assert.AreEqual(0x05F5_E100_8086_A201UL, Read64(rig.Hpet, Base), "read-only");
    }

    [TestMethod]
    public void TimerCapabilities()
    {
        // 2.3.8: Tn_PER_INT_CAP (4) on timer 0 only, Tn_SIZE_CAP (5) on all, no FSB (15), routes in bits 32–63.
        var rig = Create();
        Assert.AreEqual(0x00FF_0000_0000_0030UL, Read64(rig.Hpet, TimerRegister(0, 0)));
        Assert.AreEqual(0x00FF_0000_0000_0020UL, Read64(rig.Hpet, TimerRegister(1, 0)));
        Assert.AreEqual(0x00FF_0000_0000_0020UL, Read64(rig.Hpet, TimerRegister(2, 0)));
        Assert.AreEqual(ulong.MaxValue, Read64(rig.Hpet, TimerRegister(0, 8)), "comparators reset to all ones");
        Write64(rig.Hpet, TimerRegister(1, 0), Periodic | ValSet | 1UL << 14);
        Assert.AreEqual(0x20UL, rig.Hpet.Read(TimerRegister(1, 0), 4), "no periodic mode, no FSB delivery on timer 1");
        Assert.AreEqual(0UL, Read64(rig.Hpet, TimerRegister(0, 0x10)), "no FSB route register");
    }

    [TestMethod]
    public void RouteOutsideTheCapabilityIsNotTaken()
    {
        // 2.3.8, Tn_INT_ROUTE_CNF: an unsupported value does not read back.
        var rig = Create();
        rig.Hpet.Write(TimerRegister(2, 0), 4, Route(20));
        Assert.AreEqual(20, rig.Hpet.Timers[2].Route);
        rig.Hpet.Write(TimerRegister(2, 0), 4, Route(5));
        Assert.AreEqual(20, rig.Hpet.Timers[2].Route);
    }

    [TestMethod]
    public void MainCounterRunsAt10MHzOnlyWhileEnabled()
    {
        var rig = Create();
        rig.Clock.AdvanceTo(1_000_000);
        Assert.AreEqual(0UL, Read64(rig.Hpet, Base + 0xF0), "halted at reset");
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(1_000_000 + 1_000_000_000);
        Assert.AreEqual(10_000_000UL, Read64(rig.Hpet, Base + 0xF0), "one simulated second");
        rig.Clock.AdvanceTo(1_000_000 + 1_000_000_000 + 99);
        Assert.AreEqual(10_000_000UL, rig.Hpet.MainCounter);
        rig.Clock.AdvanceTo(1_000_000 + 1_000_000_000 + 100);
        Assert.AreEqual(10_000_001UL, rig.Hpet.MainCounter);
        Write64(rig.Hpet, Base + 0x10, 0);
        rig.Clock.AdvanceTo(5_000_000_000);
        Assert.AreEqual(10_000_001UL, rig.Hpet.MainCounter, "halted again");
    }

    [TestMethod]
    public void MainCounterRateFollowsTheMachineClock()
    {
        var rig = Create(3_000_000_000);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(3_000_000_000);
        Assert.AreEqual(10_000_000UL, rig.Hpet.MainCounter);
    }

    [TestMethod]
    public void MainCounterIsWritableWhileHaltedOnly()
    {
        // 2.3.7: software writes the counter while it is halted.
        var rig = Create();
        rig.Hpet.Write(Base + 0xF4, 4, 0x1234_5678);
        rig.Hpet.Write(Base + 0xF0, 4, 0x9ABC_DEF0);
        Assert.AreEqual(0x1234_5678_9ABC_DEF0UL, Read64(rig.Hpet, Base + 0xF0));
        Assert.AreEqual(0x1234_5678UL, rig.Hpet.Read(Base + 0xF4, 4));
        Write64(rig.Hpet, Base + 0x10, Enable);
        Write64(rig.Hpet, Base + 0xF0, 0);
        rig.Clock.AdvanceTo(1000);
        Assert.AreEqual(0x1234_5678_9ABC_DEF0UL + 10, rig.Hpet.MainCounter);
    }

    [TestMethod]
    public void OneShot64BitFiresOnceWhenTheCounterReachesTheComparator()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(2, 0), IntEnable | Route(20));
        Write64(rig.Hpet, TimerRegister(2, 8), 1000);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(1000 * CyclesPerTick - 1);
        Assert.AreEqual(0, rig.Edges.Count);
        rig.Clock.AdvanceTo(1000 * CyclesPerTick);
        CollectionAssert.AreEqual(new[] { (1000 * CyclesPerTick, "GSI20", true), (1000 * CyclesPerTick, "GSI20", false) }, rig.Edges);
        rig.Clock.AdvanceTo(1_000_000_000_000);
        Assert.AreEqual(2, rig.Edges.Count, "a 64-bit one-shot matches once");
        Assert.AreEqual(1000UL, Read64(rig.Hpet, TimerRegister(2, 8)), "a one-shot comparator stays");
        Assert.AreEqual(0UL, Read64(rig.Hpet, Base + 0x20), "no status for edge interrupts");
    }

    [TestMethod]
    public void ComparatorBehindTheCounterWaitsForTheCounterToComeRound()
    {
        var rig = Create();
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(1000 * CyclesPerTick);
        Write64(rig.Hpet, TimerRegister(2, 0), IntEnable | Route(20));
        Write64(rig.Hpet, TimerRegister(2, 8), 500);
        rig.Clock.AdvanceTo(1_000_000_000_000);
        Assert.AreEqual(0, rig.Edges.Count);
    }

    [TestMethod]
    public void ComparatorEqualToTheCounterFiresAtOnce()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(2, 0), IntEnable | Route(21));
        Write64(rig.Hpet, TimerRegister(2, 8), 0);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(0);
        Assert.AreEqual(1, Pulses(rig, "GSI21"));
        Write64(rig.Hpet, TimerRegister(2, 0), IntEnable | Route(21));
        rig.Clock.AdvanceTo(50);
        Assert.AreEqual(1, Pulses(rig, "GSI21"), "re-arming within the tick that matched does not match it again");
    }

    [TestMethod]
    public void OneShot32BitMatchesAgainAfterTheLow32BitsWrap()
    {
        // 2.3.9.2.1: a 32-bit timer's comparator matches the counter's low half again once it has come round.
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(1, 0), IntEnable | Mode32 | Route(22));
        Write64(rig.Hpet, TimerRegister(1, 8), 0xFFFF_FFFF_0000_1000);
        Assert.AreEqual(0x1000UL, Read64(rig.Hpet, TimerRegister(1, 8)), "the upper half is not kept in 32-bit mode");
        rig.Hpet.Write(TimerRegister(1, 0xC), 4, 0xFFFF_FFFF);
        Assert.AreEqual(0x1000UL, Read64(rig.Hpet, TimerRegister(1, 8)));
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(0x1000 * CyclesPerTick);
        Assert.AreEqual(1, Pulses(rig, "GSI22"));
        var again = ((1UL << 32) + 0x1000) * CyclesPerTick;
        rig.Clock.AdvanceTo(again - 1);
        Assert.AreEqual(1, Pulses(rig, "GSI22"));
        rig.Clock.AdvanceTo(again);
        Assert.AreEqual(2, Pulses(rig, "GSI22"));
    }

    [TestMethod]
    public void Mode32TruncatesTheComparator()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(0, 0), Mode32);
        Assert.AreEqual(0xFFFF_FFFFUL, Read64(rig.Hpet, TimerRegister(0, 8)));
    }

    [TestMethod]
    public void Periodic64BitAddsThePeriodOnEachMatch()
    {
        // 2.3.9.2.2: the comparator grows by the last value written at each match.
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(0, 0), IntEnable | Periodic | ValSet | Route(16));
        Write64(rig.Hpet, TimerRegister(0, 8), 500);
        Assert.AreEqual(0UL, rig.Hpet.Read(TimerRegister(0, 0), 4) & ValSet, "Tn_VAL_SET_CNF clears itself");
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(2600 * CyclesPerTick);
        var expected = Enumerable.Range(1, 5).Select(k => (ulong)k * 500 * CyclesPerTick).ToArray();
        CollectionAssert.AreEqual(expected, rig.Edges.Where(e => e.Level).Select(e => e.Cycle).ToArray());
        Assert.AreEqual(3000UL, Read64(rig.Hpet, TimerRegister(0, 8)));
    }

    [TestMethod]
    public void Periodic32BitComparatorWrapsWithTheCounterLowHalf()
    {
        var rig = Create();
        Write64(rig.Hpet, Base + 0xF0, 0xFFFF_FF00);
        Write64(rig.Hpet, TimerRegister(0, 0), IntEnable | Periodic | ValSet | Mode32 | Route(16));
        rig.Hpet.Write(TimerRegister(0, 8), 4, 0xFFFF_FF80);
        rig.Hpet.Write(TimerRegister(0, 8), 4, 0x100);
        Assert.AreEqual(0xFFFF_FF80UL, Read64(rig.Hpet, TimerRegister(0, 8)), "without Tn_VAL_SET_CNF only the period changes");
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(0x80 * CyclesPerTick);
        Assert.AreEqual(1, Pulses(rig, "GSI16"));
        Assert.AreEqual(0x80UL, Read64(rig.Hpet, TimerRegister(0, 8)), "the 32-bit comparator wrapped");
        rig.Clock.AdvanceTo(0x180 * CyclesPerTick);
        Assert.AreEqual(2, Pulses(rig, "GSI16"));
        Assert.AreEqual(0x1_0000_0080UL, rig.Hpet.MainCounter);
        Assert.AreEqual(0x180UL, Read64(rig.Hpet, TimerRegister(0, 8)));
    }

    [TestMethod]
    public void PeriodWrittenWithoutValSetTakesEffectAfterTheNextMatch()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(0, 0), IntEnable | Periodic | ValSet | Route(16));
        Write64(rig.Hpet, TimerRegister(0, 8), 1000);
        Write64(rig.Hpet, TimerRegister(0, 8), 300);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(1700 * CyclesPerTick);
        CollectionAssert.AreEqual(new[] { 1000 * CyclesPerTick, 1300 * CyclesPerTick, 1600 * CyclesPerTick },
            rig.Edges.Where(e => e.Level).Select(e => e.Cycle).ToArray());
    }

    [TestMethod]
    public void ValSetWithTwo32BitWritesSetsA64BitAccumulator()
    {
        // The sequence chipset datasheets give for 32-bit software: VAL_SET, low half, VAL_SET, high half.
        var rig = Create();
        rig.Hpet.Write(TimerRegister(0, 0), 4, Periodic | ValSet);
        rig.Hpet.Write(TimerRegister(0, 8), 4, 0x10);
        rig.Hpet.Write(TimerRegister(0, 0), 4, Periodic | ValSet);
        rig.Hpet.Write(TimerRegister(0, 0xC), 4, 0x2);
        Assert.AreEqual(0x2_0000_0010UL, Read64(rig.Hpet, TimerRegister(0, 8)));
    }

    [TestMethod]
    public void LevelInterruptHoldsTheLineUntilItsStatusIsCleared()
    {
        // 2.3.6: Tn_INT_STS is set by a level interrupt and cleared by writing 1; writing 0 leaves it.
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(0, 0), Level | IntEnable | Periodic | ValSet | Route(17));
        Write64(rig.Hpet, TimerRegister(0, 8), 100);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(100 * CyclesPerTick);
        CollectionAssert.AreEqual(new[] { (100 * CyclesPerTick, "GSI17", true) }, rig.Edges);
        Assert.AreEqual(1UL, Read64(rig.Hpet, Base + 0x20));
        rig.Clock.AdvanceTo(1050 * CyclesPerTick);
        Assert.AreEqual(1, rig.Edges.Count, "matches while the status is set change nothing");
        Assert.AreEqual(1100UL, Read64(rig.Hpet, TimerRegister(0, 8)), "but the comparator still advances");
        rig.Hpet.Write(Base + 0x20, 4, 0);
        Assert.AreEqual(1UL, Read64(rig.Hpet, Base + 0x20));
        rig.Hpet.Write(Base + 0x20, 4, 1);
        Assert.AreEqual(0UL, Read64(rig.Hpet, Base + 0x20));
        Assert.AreEqual((1050 * CyclesPerTick, "GSI17", false), rig.Edges[^1]);
        rig.Clock.AdvanceTo(1100 * CyclesPerTick);
        Assert.AreEqual((1100 * CyclesPerTick, "GSI17", true), rig.Edges[^1]);
    }

    [TestMethod]
    public void PendingLevelStatusQueuesNoEventsForLaterMatches()
    {
        // Nobody can see a match while Tn_INT_STS is set, so a fast periodic timer costs nothing until it is cleared.
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(0, 0), Level | IntEnable | Periodic | ValSet | Route(17));
        Write64(rig.Hpet, TimerRegister(0, 8), 1);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(CyclesPerTick);
        Assert.IsNull(rig.Clock.NextDeadline);
        rig.Clock.AdvanceTo(1_000_000 * CyclesPerTick);
        Assert.AreEqual(1_000_001UL, Read64(rig.Hpet, TimerRegister(0, 8)));
        rig.Hpet.Write(Base + 0x20, 4, 1);
        Assert.AreEqual(1_000_001 * CyclesPerTick, rig.Clock.NextDeadline);
    }

    [TestMethod]
    public void TimersSharingALineOrTheirLevels()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(1, 0), Level | IntEnable | Route(19));
        Write64(rig.Hpet, TimerRegister(1, 8), 10);
        Write64(rig.Hpet, TimerRegister(2, 0), Level | IntEnable | Route(19));
        Write64(rig.Hpet, TimerRegister(2, 8), 20);
        Write64(rig.Hpet, TimerRegister(0, 0), IntEnable | Route(19));
        Write64(rig.Hpet, TimerRegister(0, 8), 30);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(30 * CyclesPerTick);
        CollectionAssert.AreEqual(new[] { (10 * CyclesPerTick, "GSI19", true) }, rig.Edges, "one rise; an edge on a line held high is no edge");
        rig.Hpet.Write(Base + 0x20, 4, 2);
        Assert.AreEqual(1, rig.Edges.Count, "timer 2 still holds the line");
        rig.Hpet.Write(Base + 0x20, 4, 4);
        Assert.AreEqual((30 * CyclesPerTick, "GSI19", false), rig.Edges[^1]);
    }

    [TestMethod]
    public void DisabledTimerInterruptStillSetsItsLevelStatus()
    {
        // 2.3.8, Tn_INT_ENB_CNF: with it clear the timer still sets its status bit but raises no interrupt.
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(1, 0), Level | Route(18));
        Write64(rig.Hpet, TimerRegister(1, 8), 10);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(10 * CyclesPerTick);
        Assert.AreEqual(2UL, Read64(rig.Hpet, Base + 0x20));
        Assert.AreEqual(0, rig.Edges.Count);
        Write64(rig.Hpet, TimerRegister(1, 0), Level | IntEnable | Route(18));
        CollectionAssert.AreEqual(new[] { (10 * CyclesPerTick, "GSI18", true) }, rig.Edges, "enabling it raises the pending level");
        Write64(rig.Hpet, Base + 0x10, 0);
        Assert.AreEqual((10 * CyclesPerTick, "GSI18", false), rig.Edges[^1], "halting the HPET lowers it");
        Assert.AreEqual(2UL, Read64(rig.Hpet, Base + 0x20), "and keeps the status");
    }

    [TestMethod]
    public void HaltedCounterFiresNothingAndResumesWhereItStopped()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(2, 0), IntEnable | Route(19));
        Write64(rig.Hpet, TimerRegister(2, 8), 100);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(50 * CyclesPerTick);
        Write64(rig.Hpet, Base + 0x10, 0);
        rig.Clock.AdvanceTo(1_000 * CyclesPerTick);
        Assert.AreEqual(0, rig.Edges.Count);
        Write64(rig.Hpet, Base + 0x10, Enable);
        rig.Clock.AdvanceTo(1_050 * CyclesPerTick);
        Assert.AreEqual(1, Pulses(rig, "GSI19"));
        Assert.AreEqual(1_050 * CyclesPerTick, rig.Edges[0].Cycle);
    }

    [TestMethod]
    public void LegacyReplacementRoutesTimers0And1ToIrq0And8()
    {
        // 2.3.5.1 (LEG_RT_CNF): timer 0 to IRQ 0 / I/O APIC input 2, timer 1 to IRQ 8 / input 8.
        var rig = Create();
        var legacy = new List<bool>();
        rig.Hpet.LegacyReplacementChanged = legacy.Add;
        Write64(rig.Hpet, TimerRegister(0, 0), IntEnable | Route(20));
        Write64(rig.Hpet, TimerRegister(0, 8), 10);
        Write64(rig.Hpet, TimerRegister(1, 0), IntEnable);
        Write64(rig.Hpet, TimerRegister(1, 8), 20);
        Write64(rig.Hpet, Base + 0x10, Enable | LegacyRoute);
        CollectionAssert.AreEqual(new[] { true }, legacy);
        Assert.IsTrue(rig.Hpet.LegacyReplacement);
        rig.Clock.AdvanceTo(20 * CyclesPerTick);
        Assert.AreEqual(1, Pulses(rig, "GSI2"));
        Assert.AreEqual(1, Pulses(rig, "IRQ0"));
        Assert.AreEqual(1, Pulses(rig, "GSI8"));
        Assert.AreEqual(1, Pulses(rig, "IRQ8"));
        Assert.AreEqual(0, Pulses(rig, "GSI20"), "the route field is overridden");
        Write64(rig.Hpet, Base + 0x10, Enable);
        CollectionAssert.AreEqual(new[] { true, false }, legacy);
    }

    [TestMethod]
    public void LegacyLevelInterruptMovesWithTheRoute()
    {
        var rig = Create();
        Write64(rig.Hpet, TimerRegister(1, 0), Level | IntEnable | Route(23));
        Write64(rig.Hpet, TimerRegister(1, 8), 1);
        Write64(rig.Hpet, Base + 0x10, Enable | LegacyRoute);
        rig.Clock.AdvanceTo(CyclesPerTick);
        Write64(rig.Hpet, Base + 0x10, Enable);
        var lines = rig.Edges.Select(e => (e.Line, e.Level)).ToArray();
        CollectionAssert.AreEquivalent(new[] { ("GSI8", true), ("IRQ8", true), ("GSI8", false), ("IRQ8", false), ("GSI23", true) }, lines);
    }

    [TestMethod]
    public void OnlyAligned32And64BitAccessesAreTaken()
    {
        // 2.3.1: registers are accessed as 32- or 64-bit quantities.
        var rig = Create();
        Assert.AreEqual(0UL, rig.Hpet.Read(Base, 1));
        Assert.AreEqual(0UL, rig.Hpet.Read(Base, 2));
        Assert.AreEqual(0UL, rig.Hpet.Read(Base + 2, 4));
        Assert.AreEqual(0UL, rig.Hpet.Read(Base + 4, 8));
        rig.Hpet.Write(Base + 0x10, 1, Enable);
        rig.Hpet.Write(Base + 0x10, 2, Enable);
        rig.Hpet.Write(Base + 0x14, 8, Enable);
        rig.Hpet.Write(Base + 0x11, 4, Enable);
        Assert.IsFalse(rig.Hpet.Enabled);
        Assert.AreEqual(0UL, rig.Hpet.Read(Base + 0x400, 8), "past the last timer");
        Assert.AreEqual(0UL, rig.Hpet.Read(Base + 0x100 + 0x18, 8), "the hole after a timer's FSB route");
    }
}
