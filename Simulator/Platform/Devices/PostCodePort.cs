namespace Sim.Platform.Devices;

/// <summary>Port 0x80, the POST diagnostic port: firmware writes progress codes here (and software uses it as an I/O delay).</summary>
public sealed class PostCodePort : IPortDevice
{
    public const ushort Port = 0x80;

    public byte LastValue { get; private set; }

    public ulong WriteCount { get; private set; }

    public uint Read(ushort port, int size) => LastValue;

    public void Write(ushort port, int size, uint value)
    {
        LastValue = (byte)value;
        WriteCount++;
    }
}
