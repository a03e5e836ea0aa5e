using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>
/// The 8254 against its datasheet (Intel 231164). At the default 1 GHz one cycle is a nanosecond, so
/// after T ns the input has seen floor(T * 1.193182 MHz) CLK pulses; a count written before pulse 1 is
/// loaded on pulse 1 and decremented by every later pulse.
/// </summary>
[TestClass]
public sealed class Pit8254Tests
{
    private const ulong ClkHz = 1_193_182;

    private static ulong PulsesAfter(ulong ns) => (ulong)((UInt128)ns * ClkHz / 1_000_000_000);

    private static ulong NsOfPulse(ulong pulse) => (ulong)(((UInt128)pulse * 1_000_000_000 + ClkHz - 1) / ClkHz);

    private static (MachineClock Clock, Pit8254 Pit) Create()
    {
        var clock = new MachineClock();
        return (clock, new Pit8254(clock));
    }

    private static void Program(Pit8254 pit, int counter, byte control, ushort count)
    {
        pit.Write(0x43, 1, control);
        pit.Write((ushort)(0x40 + counter), 1, (byte)count);
        pit.Write((ushort)(0x40 + counter), 1, (byte)(count >> 8));
    }

    private static ushort LatchAndRead(Pit8254 pit, int counter)
    {
        pit.Write(0x43, 1, (byte)(counter << 6));
        var lsb = pit.Read((ushort)(0x40 + counter), 1);
        var msb = pit.Read((ushort)(0x40 + counter), 1);
        return (ushort)(lsb | msb << 8);
    }

    [TestMethod]
    [DataRow(1_000_000UL)]
    [DataRow(7_654_321UL)]
    [DataRow(123_456_789UL)]
    public void Mode2CountsDownAndReloadsAfterOne(ulong ns)
    {
        var (clock, pit) = Create();
        const ushort n = 1000;
        Program(pit, 0, 0x34, n);
        clock.AdvanceTo(ns);
        var k = PulsesAfter(ns) - 1;
        Assert.AreEqual((ushort)(n - k % n), LatchAndRead(pit, 0));
    }

    [TestMethod]
    public void Mode2RaisesOut0OncePerPeriod()
    {
        var (clock, pit) = Create();
        var edges = new List<ulong>();
        pit.Out0Rising = () => edges.Add(clock.Now);
        const ushort n = 1193;
        Program(pit, 0, 0x34, n);
        clock.AdvanceTo(10_000_000);
        Assert.AreEqual((int)((PulsesAfter(10_000_000) - 1) / n), edges.Count);
        for (var m = 1; m <= edges.Count; m++)
            Assert.AreEqual(NsOfPulse(1 + (ulong)m * n), edges[m - 1], $"edge {m} at the pulse that reloads the count");
    }

    [TestMethod]
    public void Mode2CountWrittenTwiceInOnePeriodLetsTheRunningCountFinishThenLoadsTheLast()
    {
        // Datasheet, mode 2: a new count written during counting is loaded at the end of the current
        // period; writing again before then only changes what will be loaded.
        var (clock, pit) = Create();
        var edges = new List<ulong>();
        pit.Out0Rising = () => edges.Add(clock.Now);
        Program(pit, 0, 0x34, 1000);
        clock.AdvanceTo(NsOfPulse(101));
        pit.Write(0x40, 1, 50 & 0xFF);
        pit.Write(0x40, 1, 0);
        pit.Write(0x40, 1, 30);
        pit.Write(0x40, 1, 0);
        Assert.AreEqual((ushort)(1000 - 100), LatchAndRead(pit, 0), "the running count runs on");
        clock.AdvanceTo(NsOfPulse(1 + 1000 + 3 * 30));
        CollectionAssert.AreEqual(new[] { NsOfPulse(1 + 1000), NsOfPulse(1 + 1000 + 30), NsOfPulse(1 + 1000 + 60), NsOfPulse(1 + 1000 + 90) }, edges);
    }

    [TestMethod]
    public void Mode3SquareWaveOnCounter2WithEvenCount()
    {
        var (clock, pit) = Create();
        var portB = new SystemControlPortB(pit);
        portB.Write(0x61, 1, 0x01);
        const ushort n = 100;
        Program(pit, 2, 0xB6, n);
        bool Out2At(ulong k)
        {
            clock.AdvanceTo(NsOfPulse(1 + k));
            return (portB.Read(0x61, 1) & 0x20) != 0;
        }
        Assert.IsTrue(Out2At(10));
        Assert.AreEqual((ushort)(n - 2 * 10), LatchAndRead(pit, 2), "mode 3 decrements by two");
        Assert.IsTrue(Out2At(n / 2 - 1), "high for N/2 pulses");
        Assert.IsFalse(Out2At(n / 2));
        Assert.IsFalse(Out2At(n - 1), "low for N/2 pulses");
        Assert.IsTrue(Out2At(n));
    }

    [TestMethod]
    public void Mode3OddCountIsHighOneMorePulse()
    {
        var (clock, pit) = Create();
        pit.Gate2 = true;
        const ushort n = 101;
        Program(pit, 2, 0xB6, n);
        bool Out2At(ulong k)
        {
            clock.AdvanceTo(NsOfPulse(1 + k));
            return pit.Out2;
        }
        Assert.IsTrue(Out2At((n + 1) / 2 - 1), "high for (N+1)/2 pulses");
        Assert.IsFalse(Out2At((n + 1) / 2));
        Assert.IsFalse(Out2At(n - 1), "low for (N-1)/2 pulses");
        Assert.IsTrue(Out2At(n));
    }

    [TestMethod]
    public void Mode0OutGoesHighAtTerminalCountAndStays()
    {
        var (clock, pit) = Create();
        pit.Gate2 = true;
        const ushort n = 500;
        Program(pit, 2, 0xB0, n);
        Assert.IsFalse(pit.Out2, "mode 0 OUT is low after the control word");
        clock.AdvanceTo(NsOfPulse(1 + n - 1));
        Assert.IsFalse(pit.Out2);
        Assert.AreEqual((ushort)1, LatchAndRead(pit, 2));
        clock.AdvanceTo(NsOfPulse(1 + n));
        Assert.IsTrue(pit.Out2);
        clock.AdvanceTo(NsOfPulse(1 + n + 5));
        Assert.IsTrue(pit.Out2);
        Assert.AreEqual((ushort)(0x10000 - 5), LatchAndRead(pit, 2), "the counter wraps and keeps counting");
    }

    [TestMethod]
    public void Mode0GateLowSuspendsCounting()
    {
        var (clock, pit) = Create();
        pit.Gate2 = true;
        Program(pit, 2, 0xB0, 1000);
        clock.AdvanceTo(NsOfPulse(1 + 100));
        pit.Gate2 = false;
        clock.AdvanceTo(NsOfPulse(1 + 600));
        Assert.AreEqual((ushort)900, LatchAndRead(pit, 2));
        pit.Gate2 = true;
        clock.AdvanceTo(NsOfPulse(1 + 600 + 50));
        Assert.AreEqual((ushort)850, LatchAndRead(pit, 2));
    }

    [TestMethod]
    public void LatchHoldsTheCountUntilRead()
    {
        var (clock, pit) = Create();
        Program(pit, 0, 0x34, 20000);
        clock.AdvanceTo(NsOfPulse(1 + 1234));
        pit.Write(0x43, 1, 0x00);
        clock.AdvanceTo(NsOfPulse(1 + 5000));
        var lsb = pit.Read(0x40, 1);
        var msb = pit.Read(0x40, 1);
        Assert.AreEqual(20000u - 1234, lsb | msb << 8);
        Assert.AreEqual((ushort)(20000 - 5000), LatchAndRead(pit, 0), "the latch is released after both bytes");
    }

    [TestMethod]
    public void ReadBackLatchesStatusThenCount()
    {
        var (clock, pit) = Create();
        pit.Write(0x43, 1, 0x34);
        pit.Write(0x43, 1, 0xE2);
        Assert.AreEqual(0x80u | 0x40 | 0x34, pit.Read(0x40, 1), "OUT high in mode 2, null count until loaded");
        pit.Write(0x40, 1, 0x10);
        pit.Write(0x40, 1, 0x27);
        clock.AdvanceTo(NsOfPulse(1 + 100));
        pit.Write(0x43, 1, 0xC2);
        Assert.AreEqual(0x80u | 0x34, pit.Read(0x40, 1));
        clock.AdvanceTo(NsOfPulse(1 + 300));
        var lsb = pit.Read(0x40, 1);
        var msb = pit.Read(0x40, 1);
        Assert.AreEqual(10000u - 100, lsb | msb << 8);
    }

    [TestMethod]
    public void LsbOnlyAndBcdAccess()
    {
        var (clock, pit) = Create();
        pit.Write(0x43, 1, 0x14);
        pit.Write(0x40, 1, 0x80);
        clock.AdvanceTo(NsOfPulse(1 + 0x20));
        pit.Write(0x43, 1, 0x00);
        Assert.AreEqual(0x60u, pit.Read(0x40, 1));

        pit.Write(0x43, 1, 0x75);
        pit.Write(0x41, 1, 0x00);
        pit.Write(0x41, 1, 0x10);
        var start = PulsesAfter(clock.Now);
        clock.AdvanceTo(NsOfPulse(start + 1 + 1));
        Assert.AreEqual((ushort)0x0999, LatchAndRead(pit, 1), "BCD 1000 minus one count reads 0999");
    }

    [TestMethod]
    public void RefreshToggleFollowsTime()
    {
        var (clock, pit) = Create();
        var portB = new SystemControlPortB(pit);
        var seen = new HashSet<uint>();
        for (ulong t = 0; t < 100_000; t += 5_000)
        {
            clock.AdvanceTo(t);
            seen.Add(portB.Read(0x61, 1) & 0x10);
        }
        CollectionAssert.AreEquivalent(new uint[] { 0, 0x10 }, seen.ToArray());
        portB.Write(0x61, 1, 0x03);
        Assert.IsTrue(portB.SpeakerEnabled);
        Assert.IsTrue(pit.Gate2);
        Assert.AreEqual(0x03u, portB.Read(0x61, 1) & 0x0F);
    }
}
