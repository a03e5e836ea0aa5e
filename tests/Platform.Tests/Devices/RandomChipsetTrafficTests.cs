using Sim.Cpu.Bus;
using Sim.Platform.Apic;
using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>
/// Thousands of random accesses of random sizes and random time advances against the I/O APIC, the
/// HPET and the ACPI PM registers, from fixed seeds: no host exception may escape, and two runs from
/// the same seed must leave the same trace.
/// </summary>
[TestClass]
public sealed class RandomChipsetTrafficTests
{
    private const int Steps = 4000;
    private static readonly int[] Seeds = [1, 2, 3];
    private static readonly int[] MmioSizes = [1, 2, 4, 4, 4, 8, 8];
    private static readonly int[] PortSizes = [1, 1, 2, 2, 4];

    private sealed class TracingSink(List<ulong> trace) : IInterruptMessageSink
    {
        public void Deliver(in InterruptMessage message) =>
            trace.Add(0x1_0000_0000UL | (ulong)message.Vector | (ulong)message.Mode << 8 | (message.LogicalDestination ? 1UL << 11 : 0)
                | (message.LevelTriggered ? 1UL << 15 : 0) | (ulong)message.Destination << 16);
    }

    /// <summary>What one run drives: a read, a write and an extra action, each picked at random.</summary>
    private sealed record Rig(Func<Random, ulong> Read, Action<Random> Write, Action<Random>? Poke = null);

    private static ulong RandomValue(Random random) => random.Next(4) switch
    {
        0 => (ulong)random.Next(16),
        1 => (ulong)random.Next(256),
        2 => (ulong)random.NextInt64(1L << 32),
        _ => (ulong)random.NextInt64() << 1 ^ (ulong)random.Next(2),
    };

    private static List<ulong> Run(int seed, Func<MachineClock, List<ulong>, Rig> build, ulong shortJump, ulong longJump)
    {
        var random = new Random(seed);
        var clock = new MachineClock();
        var trace = new List<ulong>();
        var rig = build(clock, trace);
        ulong now = 0;
        for (var step = 0; step < Steps; step++)
        {
            switch (random.Next(8))
            {
                case 0:
                case 1:
                    trace.Add(rig.Read(random));
                    break;
                case 2:
                case 3:
                case 4:
                    rig.Write(random);
                    break;
                case 5:
                    rig.Poke?.Invoke(random);
                    break;
                default:
                    now += random.Next(64) == 0 ? (ulong)random.NextInt64((long)longJump) : (ulong)random.NextInt64((long)shortJump);
                    clock.AdvanceTo(now);
                    trace.Add(now);
                    break;
            }
        }
        trace.Add(clock.NextDeadline ?? ulong.MaxValue);
        return trace;
    }

    /// <summary><paramref name="outputTag"/> marks the trace entries of the device's interrupt outputs, which the traffic must reach.</summary>
    private static void AssertDeterministic(Func<MachineClock, List<ulong>, Rig> build, ulong shortJump, ulong longJump, ulong outputTag)
    {
        foreach (var seed in Seeds)
        {
            var first = Run(seed, build, shortJump, longJump);
            var second = Run(seed, build, shortJump, longJump);
            CollectionAssert.AreEqual(first, second, $"seed {seed}");
            Assert.IsTrue(first.Any(entry => entry >> 32 == outputTag), $"seed {seed}: the random traffic raised no interrupt");
        }
    }

    private static Rig MmioRig(IMmioDevice device, ulong baseAddress, int[] offsets, Action<Random>? poke = null)
    {
        ulong Address(Random random) => baseAddress + (ulong)(random.Next(8) == 0 ? random.Next(4096) : offsets[random.Next(offsets.Length)]);
        return new Rig(
            random => device.Read(Address(random), MmioSizes[random.Next(MmioSizes.Length)]),
            random => device.Write(Address(random), MmioSizes[random.Next(MmioSizes.Length)], RandomValue(random)),
            poke);
    }

    [TestMethod]
    public void IoApicSurvivesRandomTraffic() => AssertDeterministic((_, trace) =>
    {
        var ioApic = new IoApic82093AA(new TracingSink(trace));
        return MmioRig(ioApic, ChipsetLayout.IoApicBase, [0x00, 0x00, 0x10, 0x10, 0x10, 0x40, 0x04, 0x14], random =>
        {
            if (random.Next(3) == 0) ioApic.EndOfInterrupt((byte)random.Next(256));
            else ioApic.SetPinLevel(random.Next(IoApic82093AA.Pins), random.Next(2) == 0);
        });
    }, shortJump: 1000, longJump: 1000, outputTag: 1);

    [TestMethod]
    public void HpetSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var hpet = new Hpet(clock)
        {
            GsiLevel = (gsi, level) => trace.Add(0x2_0000_0000UL | (ulong)gsi << 1 | (level ? 1UL : 0)),
            IsaIrqLevel = (irq, level) => trace.Add(0x3_0000_0000UL | (ulong)irq << 1 | (level ? 1UL : 0)),
            LegacyReplacementChanged = on => trace.Add(on ? 0x4_0000_0001UL : 0x4_0000_0000UL),
        };
        int[] offsets = [0x000, 0x004, 0x010, 0x010, 0x014, 0x020, 0x0F0, 0x0F4,
            0x100, 0x104, 0x108, 0x10C, 0x110, 0x120, 0x124, 0x128, 0x12C, 0x140, 0x144, 0x148, 0x14C, 0x160];
        // Besides the raw traffic, plausible programming: a timer with interrupts on a route it has, due soon.
        return MmioRig(hpet, ChipsetLayout.HpetBase, offsets, random =>
        {
            var timer = (ulong)random.Next(Hpet.TimerCount);
            var config = (ulong)random.Next(1 << 9) & 0x14A | HpetTimer.IntEnbCnf | (ulong)random.Next(16, 24) << 9;
            hpet.Write(ChipsetLayout.HpetBase + 0x100 + 0x20 * timer, 8, config);
            hpet.Write(ChipsetLayout.HpetBase + 0x108 + 0x20 * timer, 8, hpet.MainCounter + (ulong)random.Next(1, 50_000));
            hpet.Write(ChipsetLayout.HpetBase + 0x10, 4, Hpet.EnableCnf | (ulong)random.Next(2) << 1);
        });
    // A periodic timer may match every tick (100 cycles) and pulse each time: the jumps stay short.
    }, shortJump: 200_000, longJump: 5_000_000, outputTag: 2);

    [TestMethod]
    public void AcpiPmRegistersSurviveRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var pm = new AcpiPmRegisters(clock)
        {
            SciLevel = level => trace.Add(level ? 0x5_0000_0001UL : 0x5_0000_0000UL),
            PowerOff = () => trace.Add(0x6_0000_0000UL | clock.Now),
        };
        ushort Port(Random random) => (ushort)(AcpiPmRegisters.BasePort + random.Next(AcpiPmRegisters.PortCount));
        return new Rig(
            random => pm.Read(Port(random), PortSizes[random.Next(PortSizes.Length)]),
            random => pm.Write(Port(random), PortSizes[random.Next(PortSizes.Length)], (uint)RandomValue(random)),
            _ => pm.PressPowerButton());
    }, shortJump: 100_000_000, longJump: 20_000_000_000, outputTag: 5);
}
