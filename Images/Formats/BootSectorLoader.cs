namespace Sim.Images.Formats;

/// <summary>
/// Boots a floppy or disk image the way a PC BIOS does: the first sector at 0000:7C00 with the
/// boot drive in DL; the whole image stays available to INT 13h.
/// </summary>
internal static class BootSectorLoader
{
    public const int SectorSize = 512;
    public const ushort LoadAddress = 0x7C00;
    public const byte FloppyDrive = 0x00;
    public const byte HardDiskDrive = 0x80;

    /// <summary>Standard floppy sizes: 360K, 720K, 1.2M, 1.44M, 2.88M.</summary>
    public static readonly IReadOnlySet<int> FloppySizes = new HashSet<int> { 368640, 737280, 1228800, 1474560, 2949120 };

    public static bool HasSignature(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= SectorSize && bytes[510] == 0x55 && bytes[511] == 0xAA;

    public static BootImage Load(byte[] bytes, string name, ImageLoadOptions options)
    {
        if (bytes.Length < SectorSize)
        {
            throw new ImageFormatException(name, $"a boot-sector image needs at least {SectorSize} bytes, the file has {bytes.Length}");
        }

        if (!HasSignature(bytes))
        {
            throw new ImageFormatException(name, $"boot sector lacks the 0x55 0xAA signature at bytes 510-511");
        }

        var disk = bytes;
        if (bytes.Length % SectorSize != 0)
        {
            // INT 13h serves whole sectors: the last partial sector reads as zero-padded.
            disk = new byte[MemoryPlacement.AlignUp((ulong)bytes.Length, SectorSize)];
            bytes.CopyTo(disk, 0);
        }

        MemoryPlacement.EnsureInMemory(name, "boot sector", LoadAddress, SectorSize, options.MemorySize);
        var drive = FloppySizes.Contains(bytes.Length) ? FloppyDrive : HardDiskDrive;
        return new BootImage
        {
            Chunks = [new MemoryChunk(LoadAddress, bytes[..SectorSize])],
            Entry = new RealModeEntry(0, LoadAddress, drive),
            Disk = disk,
            Description = $"boot sector of {(drive == FloppyDrive ? "floppy" : "disk")} image {name} ({disk.Length} bytes), real mode at 0000:7C00, DL=0x{drive:X2}",
        };
    }
}
