namespace Sim.Images;

/// <summary>Bytes to place in guest-physical memory at <paramref name="Address"/>.</summary>
public sealed record MemoryChunk(ulong Address, byte[] Data)
{
    /// <summary>The first address past the chunk.</summary>
    public ulong End => Address + (ulong)Data.Length;
}
