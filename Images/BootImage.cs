namespace Sim.Images;

/// <summary>A loaded guest: what to put in memory, how the CPU starts, and an optional disk for the BIOS.</summary>
public sealed class BootImage
{
    public required IReadOnlyList<MemoryChunk> Chunks { get; init; }

    public required EntryState Entry { get; init; }

    /// <summary>A disk or floppy image that the platform's BIOS serves through INT 13h (boot-sector images).</summary>
    public byte[]? Disk { get; init; }

    /// <summary>One line: the format and the entry, for --stats/--verbose output.</summary>
    public required string Description { get; init; }
}
