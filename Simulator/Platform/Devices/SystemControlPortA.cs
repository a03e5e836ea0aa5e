namespace Sim.Platform.Devices;

/// <summary>
/// Port 0x92, the PS/2 system control port A ("fast A20 and reset"): bit 1 opens the A20 gate, a
/// 0-to-1 transition of bit 0 resets the processor.
/// </summary>
public sealed class SystemControlPortA : IPortDevice
{
    public const ushort Port = 0x92;

    private readonly A20Gate _a20;
    private readonly MachineControl _control;
    private byte _value;

    public SystemControlPortA(A20Gate a20, MachineControl control)
    {
        _a20 = a20;
        _control = control;
    }

    public uint Read(ushort port, int size) => (uint)((_value & ~0x02) | (_a20.FromPortA ? 0x02 : 0));

    public void Write(ushort port, int size, uint value)
    {
        var b = (byte)value;
        var resetEdge = (_value & 0x01) == 0 && (b & 0x01) != 0;
        _value = b;
        _a20.FromPortA = (b & 0x02) != 0;
        if (resetEdge) _control.RequestReset("port 0x92");
    }
}
