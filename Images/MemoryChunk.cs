namespace Sim.Images;

/// <summary>
/// Bytes to place in guest-physical memory at <paramref name="Address"/>, followed by
/// <paramref name="ZeroFill"/> bytes of zeros (an ELF or a.out bss), which are not held in memory
/// here so that a bss can be as large as the guest's RAM.
/// </summary>
public sealed record MemoryChunk(ulong Address, byte[] Data, ulong ZeroFill = 0)
{
    /// <summary>Bytes the chunk occupies: the data and the zeros after it.</summary>
    public ulong Length => (ulong)Data.Length + ZeroFill;

    /// <summary>The first address past the chunk.</summary>
    public ulong End => Address + Length;
}
