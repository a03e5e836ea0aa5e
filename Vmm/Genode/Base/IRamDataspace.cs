namespace Sim.Vmm.Genode;

/// <summary>
/// A RAM dataspace: page-granular memory whose bytes live in the machine's simulated physical memory.
/// The component reads and writes it through its local mapping; a VM session maps it into a guest.
/// </summary>
public interface IRamDataspace
{
    /// <summary>The capability; the kernel model maps it to the physical address. Invalid after it was freed.</summary>
    DataspaceCapability Cap { get; }

    /// <summary>Size in bytes, a multiple of 4 KiB.</summary>
    ulong Size { get; }

    bool Writeable { get; }

    /// <summary>True for a managed dataspace (a region map); VM sessions refuse those.</summary>
    bool Managed { get; }

    /// <summary>Copies <paramref name="data"/> to the dataspace at <paramref name="offset"/>; false if the range exceeds it.</summary>
    bool Write(ulong offset, ReadOnlySpan<byte> data);

    /// <summary>Copies bytes at <paramref name="offset"/> into <paramref name="data"/>; false if the range exceeds it.</summary>
    bool Read(ulong offset, Span<byte> data);
}
