namespace Sim.Cpu.Bus;

/// <summary>A device that claims whole 4 KiB pages of the physical address space.</summary>
public interface IMmioDevice
{
    /// <summary>Reads <paramref name="size"/> bytes (1, 2, 4 or 8) at physical address <paramref name="address"/>.</summary>
    ulong Read(ulong address, int size);

    /// <summary>Writes the low <paramref name="size"/> bytes of <paramref name="value"/> at physical address <paramref name="address"/>.</summary>
    void Write(ulong address, int size, ulong value);
}
