namespace Sim.Platform.Devices;

/// <summary>
/// The Bochs/QEMU debug console at port 0xE9: every byte written goes to the console as it is; a read
/// returns 0xE9, which is how software detects the port.
/// </summary>
public sealed class DebugConsolePort : IPortDevice
{
    public const ushort Port = 0xE9;

    private readonly Stream _sink;

    public DebugConsolePort(Stream sink) => _sink = sink;

    public uint Read(ushort port, int size) => Port;

    public void Write(ushort port, int size, uint value) => _sink.WriteByte((byte)value);
}
