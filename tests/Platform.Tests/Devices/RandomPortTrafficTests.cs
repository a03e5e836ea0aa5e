using Sim.Cpu.Memory;
using Sim.Platform.Bios;
using Sim.Platform.Devices;
using Sim.Platform.Time;

namespace Sim.Platform.Tests.Devices;

/// <summary>
/// Thousands of random port reads, writes and time advances per device, from fixed seeds: no host
/// exception may escape, and two runs from the same seed must leave the same trace.
/// </summary>
[TestClass]
public sealed class RandomPortTrafficTests
{
    private const int Steps = 4000;
    private static readonly int[] Seeds = [1, 2, 3];
    private static readonly int[] Sizes = [1, 1, 1, 2, 4];

    /// <summary>What one run drives: the device's ports, a hook for extra random actions, and the trace it writes.</summary>
    private sealed record Rig(MachineClock Clock, IPortDevice Device, ushort[] Ports, List<ulong> Trace, Action<Random>? Poke = null);

    /// <summary>
    /// Runs <see cref="Steps"/> random steps against a fresh rig and returns its trace. Values lean
    /// towards the small ones that select commands and registers; advances towards short times, with
    /// an occasional jump of up to <paramref name="longestJump"/> cycles.
    /// </summary>
    private static List<ulong> Run(int seed, Func<MachineClock, List<ulong>, Rig> build, ulong longestJump)
    {
        var random = new Random(seed);
        var clock = new MachineClock();
        var rig = build(clock, []);
        ulong now = 0;
        for (var step = 0; step < Steps; step++)
        {
            var port = rig.Ports[random.Next(rig.Ports.Length)];
            var size = Sizes[random.Next(Sizes.Length)];
            switch (random.Next(8))
            {
                case 0:
                case 1:
                    rig.Trace.Add(rig.Device.Read(port, size));
                    break;
                case 2:
                case 3:
                case 4:
                {
                    var value = random.Next(3) switch
                    {
                        0 => (uint)random.Next(16),
                        1 => (uint)random.Next(256),
                        _ => (uint)random.NextInt64(1L << 32),
                    };
                    rig.Device.Write(port, size, value);
                    break;
                }
                case 5:
                    rig.Poke?.Invoke(random);
                    break;
                default:
                {
                    var jump = random.Next(64) == 0 ? (ulong)random.NextInt64((long)longestJump) : (ulong)random.Next(2_000_000);
                    now += jump;
                    clock.AdvanceTo(now);
                    rig.Trace.Add(now);
                    break;
                }
            }
        }
        rig.Trace.Add(clock.NextDeadline ?? ulong.MaxValue);
        return rig.Trace;
    }

    private static void AssertDeterministic(Func<MachineClock, List<ulong>, Rig> build, ulong longestJump = 10_000_000_000)
    {
        foreach (var seed in Seeds)
        {
            var first = Run(seed, build, longestJump);
            var second = Run(seed, build, longestJump);
            CollectionAssert.AreEqual(first, second, $"seed {seed}");
        }
    }

    [TestMethod]
    public void Pic8259ASurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var pic = new CascadedPic8259A();
        pic.InterruptRaised = () => trace.Add(0x1000);
        return new Rig(clock, pic, [0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1], trace, random =>
        {
            if (random.Next(2) == 0)
            {
                pic.SetIrqLevel(random.Next(16), random.Next(2) == 0);
            }
            else if (pic.InterruptPending)
            {
                trace.Add(pic.Acknowledge());
            }
        });
    });

    [TestMethod]
    public void Pit8254AndPortBSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var pit = new Pit8254(clock);
        pit.Out0Rising = () => trace.Add(clock.Now);
        var portB = new SystemControlPortB(pit);
        return new Rig(clock, pit, [0x40, 0x41, 0x42, 0x43, 0x43], trace, random =>
        {
            if (random.Next(2) == 0) portB.Write(0x61, 1, (uint)random.Next(256));
            else trace.Add(portB.Read(0x61, 1));
        });
    // Counter 0 may run at its fastest, one edge every two CLK pulses: jumps stay short.
    }, longestJump: 20_000_000);

    [TestMethod]
    public void RtcMc146818SurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var rtc = new RtcMc146818(clock) { IrqLevel = level => trace.Add(level ? 0x2001UL : 0x2000UL) };
        return new Rig(clock, rtc, [0x70, 0x71, 0x71], trace, random =>
        {
            switch (random.Next(3))
            {
                case 0:
                    // Mostly the clock's own registers and the century byte, sometimes the rest of CMOS.
                    var index = random.Next(4) switch { 0 => 0x32, 1 => random.Next(128), _ => random.Next(0x0E) };
                    rtc.Write(0x70, 1, (uint)index);
                    break;
                case 1:
                    // Random writes stop the divider chain most of the time; start it again.
                    rtc.WriteRegister(0x0A, (byte)(0x20 | random.Next(16)));
                    rtc.WriteRegister(0x0B, (byte)(random.Next(256) & 0x7F));
                    break;
                default:
                    trace.Add(rtc.ReadRegister(0x0C));
                    break;
            }
        });
    }, longestJump: 30UL * 86400 * MachineClock.DefaultFrequencyHz);

    [TestMethod]
    public void KeyboardController8042SurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var control = new MachineControl();
        var a20 = new A20Gate();
        a20.Changed = enabled => trace.Add(enabled ? 0x3001UL : 0x3000UL);
        var kbc = new KeyboardController8042(a20, control);
        return new Rig(clock, kbc, [0x60, 0x64], trace, _ =>
        {
            trace.Add((ulong)(control.Outcome ?? RunOutcome.DebugExit));
            control.Clear();
        });
    });

    [TestMethod]
    public void SystemControlPortASurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var control = new MachineControl();
        var a20 = new A20Gate();
        var portA = new SystemControlPortA(a20, control);
        return new Rig(clock, portA, [0x92], trace, _ =>
        {
            trace.Add(a20.Enabled ? 1UL : 0UL);
            trace.Add((ulong)(control.Outcome ?? RunOutcome.DebugExit));
            control.Clear();
        });
    });

    [TestMethod]
    public void ResetControlRegisterSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var control = new MachineControl();
        return new Rig(clock, new ResetControlRegister(control), [0xCF9], trace, _ =>
        {
            trace.Add((ulong)(control.Outcome ?? RunOutcome.DebugExit));
            control.Clear();
        });
    });

    [TestMethod]
    public void PostCodePortSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var post = new PostCodePort();
        return new Rig(clock, post, [0x80], trace, _ => trace.Add(post.WriteCount));
    });

    [TestMethod]
    public void BochsShutdownPortSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var control = new MachineControl();
        var port = new BochsShutdownPort(control);
        return new Rig(clock, port, [0x8900], trace, random =>
        {
            if (random.Next(4) == 0)
                foreach (var c in "Shutdown") port.Write(0x8900, 1, c);
            trace.Add((ulong)(control.Outcome ?? RunOutcome.DebugExit));
            control.Clear();
        });
    });

    [TestMethod]
    public void DebugExitPortSurvivesRandomTraffic() => AssertDeterministic((clock, trace) =>
    {
        var control = new MachineControl();
        return new Rig(clock, new DebugExitPort(control), [0xF4], trace, _ =>
        {
            trace.Add((ulong)control.ExitCode);
            control.Clear();
        });
    });

    [TestMethod]
    public void BiosServicesSurvivesRandomTraffic()
    {
        // The register file's ports, plus calls of every serviced vector with functions the services
        // know and random packets and buffers in low memory.
        var memories = new List<PhysicalMemory>();
        try
        {
            AssertDeterministic((clock, trace) =>
            {
                var memory = new PhysicalMemory(2UL << 20);
                memories.Add(memory);
                var rtc = new RtcMc146818(clock);
                var bios = new BiosServices(memory, new Uart16550A(Stream.Null), rtc, new A20Gate());
                var disk = new byte[37 * 512 + 100];
                for (var i = 0; i < disk.Length; i++) disk[i] = (byte)(i * 7);
                bios.AttachDisk(disk, 0x80);
                byte[] vectors = [0x10, 0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x00, 0xFF];
                byte[] functions = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x0E, 0x0F, 0x13, 0x15, 0x24, 0x41, 0x42, 0x43, 0x44, 0x48, 0x86, 0x88, 0xE8];
                var ports = new ushort[BiosServices.PortCount - 2];
                for (var i = 0; i < ports.Length; i++) ports[i] = (ushort)(BiosServices.BasePort + (i < 0x20 ? i : i + 2));
                return new Rig(clock, bios, ports, trace, random =>
                {
                    for (var i = 0; i < 4; i++) memory.Write((ulong)random.Next(0x400, 0x800) & ~1UL, 8, (ulong)random.NextInt64());
                    memory.Write(0x500 + 8, 8, (ulong)random.Next(64));
                    var eax = (uint)functions[random.Next(functions.Length)] << 8 | (uint)random.Next(256);
                    if (random.Next(4) == 0) eax = (uint)random.Next(3) switch { 0 => 0xE820, 1 => 0xE801, _ => 0x2401 };
                    bios.Write(BiosServices.BasePort, 4, eax);
                    bios.Write(BiosServices.BasePort + 0x0C, 4, random.Next(3) switch { 0 => 0x80u, 1 => 0x534D4150u, _ => (uint)random.Next(256) });
                    bios.Write(BiosServices.BasePort + 0x10, 4, random.Next(2) == 0 ? 0x500u : (uint)random.NextInt64(1L << 32));
                    if (random.Next(2) == 0) bios.Write(BiosServices.BasePort + 0x1C, 2, 0);
                    bios.Write(BiosServices.CallPort, 1, vectors[random.Next(vectors.Length)]);
                    for (ushort p = BiosServices.BasePort; p < BiosServices.BasePort + 0x1C; p += 4) trace.Add(bios.Read(p, 4));
                    trace.Add(bios.Read(BiosServices.FlagsPort, 2));
                    trace.Add(memory.Read(0x500, 8));
                });
            }, longestJump: 100UL * 86400 * MachineClock.DefaultFrequencyHz);
        }
        finally
        {
            foreach (var memory in memories) memory.Dispose();
        }
    }
}
