using Sim.Platform.Time;

namespace Sim.Platform.Devices;

/// <summary>
/// The Intel 8254 programmable interval timer at ports 0x40–0x43, clocked at 1.193182 MHz derived from
/// the machine's cycle clock. Counter 0 drives IRQ 0, counter 2's gate and output are wired to port
/// 0x61 (<see cref="SystemControlPortB"/>), counter 1 (DRAM refresh on the PC) only counts. Counters are
/// evaluated lazily from the present time; only counter 0's rising OUT edges are queued as events,
/// because they are what raises an interrupt.
/// </summary>
public sealed class Pit8254 : IPortDevice
{
    public const ushort BasePort = 0x40;
    public const ulong InputFrequencyHz = 1_193_182;

    private readonly MachineClock _clock;
    private readonly TimerEvent _out0Edge;

    public Pit8254(MachineClock clock)
    {
        _clock = clock;
        _out0Edge = new TimerEvent("8254 OUT0", OnOut0Edge);
        Counters = [new Pit8254Counter(0), new Pit8254Counter(1), new Pit8254Counter(2)];
    }

    public IReadOnlyList<Pit8254Counter> Counters { get; }

    /// <summary>Called on every rising edge of counter 0's OUT (the machine pulses IRQ 0).</summary>
    public Action? Out0Rising { get; set; }

    /// <summary>CLK pulses since power-on at the present time.</summary>
    public ulong CurrentTick => TickAt(_clock.Now);

    public ulong TickAt(ulong cycle) => (ulong)((UInt128)cycle * InputFrequencyHz / _clock.FrequencyHz);

    /// <summary>The first cycle at which <paramref name="tick"/> CLK pulses have happened.</summary>
    public ulong CycleOfTick(ulong tick)
    {
        var product = (UInt128)tick * _clock.FrequencyHz;
        return (ulong)((product + InputFrequencyHz - 1) / InputFrequencyHz);
    }

    public bool Gate2
    {
        get => Counters[2].Gate;
        set => Counters[2].SetGate(value, CurrentTick);
    }

    public bool Out2 => Counters[2].Out(CurrentTick);

    public uint Read(ushort port, int size)
    {
        var index = port - BasePort;
        if (index == 3) return 0xFF;
        return Counters[index].ReadByte(CurrentTick);
    }

    public void Write(ushort port, int size, uint value)
    {
        var index = port - BasePort;
        var b = (byte)value;
        var tick = CurrentTick;
        if (index < 3)
        {
            if (Counters[index].WriteByte(b, tick) && index == 0) RescheduleOut0(tick);
            return;
        }
        var select = b >> 6;
        if (select == 3)
        {
            ReadBack(b, tick);
            return;
        }
        var counter = Counters[select];
        if ((b & 0x30) == 0)
        {
            counter.LatchCount(tick);
            return;
        }
        counter.WriteControl(b, tick);
        if (select == 0) RescheduleOut0(tick);
    }

    private void ReadBack(byte command, ulong tick)
    {
        for (var i = 0; i < 3; i++)
        {
            if ((command & (2 << i)) == 0) continue;
            // The datasheet latches status before count, so that a read returns the status byte first.
            if ((command & 0x10) == 0) Counters[i].LatchStatus(tick);
            if ((command & 0x20) == 0) Counters[i].LatchCount(tick);
        }
    }

    private void RescheduleOut0(ulong tick)
    {
        var next = Counters[0].NextRisingEdge(tick);
        if (next is { } edge) _clock.Arm(_out0Edge, CycleOfTick(edge));
        else _clock.Cancel(_out0Edge);
    }

    private void OnOut0Edge(ulong cycle)
    {
        Out0Rising?.Invoke();
        RescheduleOut0(TickAt(cycle));
    }
}
