namespace Sim.Platform.Devices;

/// <summary>
/// Port 0x61, the PC/AT's system control port B: bit 0 drives 8254 counter 2's gate, bit 1 the
/// speaker data enable, bits 2–3 the parity and I/O-channel check enables; reads add bit 4, the
/// refresh request toggle (counter 1's output on the AT: every 18 CLK pulses, 15.09 µs), and bit 5,
/// counter 2's OUT.
/// </summary>
public sealed class SystemControlPortB : IPortDevice
{
    public const ushort Port = 0x61;

    /// <summary>The AT BIOS programs counter 1 with 18 for DRAM refresh.</summary>
    private const ulong RefreshPeriodTicks = 18;

    private readonly Pit8254 _pit;
    private byte _latch;

    public SystemControlPortB(Pit8254 pit) => _pit = pit;

    public bool SpeakerEnabled => (_latch & 0x02) != 0;

    public uint Read(ushort port, int size)
    {
        var value = (uint)(_latch & 0x0F);
        if (_pit.CurrentTick / RefreshPeriodTicks % 2 == 1) value |= 0x10;
        if (_pit.Out2) value |= 0x20;
        return value;
    }

    public void Write(ushort port, int size, uint value)
    {
        _latch = (byte)(value & 0x0F);
        _pit.Gate2 = (value & 0x01) != 0;
    }
}
