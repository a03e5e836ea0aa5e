namespace Sim.Platform;

/// <summary>A device that decodes a range of I/O ports; <see cref="IoBus"/> hands it the absolute port number.</summary>
public interface IPortDevice
{
    /// <summary>Reads <paramref name="size"/> bytes (1, 2 or 4) from <paramref name="port"/>.</summary>
    uint Read(ushort port, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> to <paramref name="port"/>.</summary>
    void Write(ushort port, int size, uint value);
}
