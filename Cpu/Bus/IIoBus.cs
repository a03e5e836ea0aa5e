namespace Sim.Cpu.Bus;

/// <summary>The port-I/O address space (64 KiB of ports) as the processor sees it through IN/OUT/INS/OUTS.</summary>
public interface IIoBus
{
    /// <summary>Reads <paramref name="size"/> bytes (1, 2 or 4) from <paramref name="port"/>.</summary>
    uint Read(ushort port, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes (1, 2 or 4) of <paramref name="value"/> to <paramref name="port"/>.</summary>
    void Write(ushort port, int size, uint value);
}
