namespace Sim.Platform.Devices;

/// <summary>
/// QEMU's isa-debug-exit device at port 0xF4: writing V ends the run with process exit status
/// (V &lt;&lt; 1) | 1, so that a guest can report success or failure to the host.
/// </summary>
public sealed class DebugExitPort : IPortDevice
{
    public const ushort Port = 0xF4;

    private readonly MachineControl _control;

    public DebugExitPort(MachineControl control) => _control = control;

    public uint Read(ushort port, int size) => 0xFFFF_FFFFu >> (32 - 8 * size);

    public void Write(ushort port, int size, uint value)
    {
        var v = size == 4 ? value : value & ((1u << (8 * size)) - 1);
        _control.RequestExit(RunOutcome.DebugExit, unchecked((int)((v << 1) | 1)), $"isa-debug-exit: guest wrote 0x{v:x} to port 0xF4");
    }
}
