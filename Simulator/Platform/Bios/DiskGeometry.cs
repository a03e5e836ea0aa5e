namespace Sim.Platform.Bios;

/// <summary>
/// The CHS geometry INT 13h reports for a disk image: the standard floppy formats by size for
/// drives below 0x80, and 16 heads by 63 sectors per track (the ATA translation BIOSes use for small
/// disks) for hard disks.
/// </summary>
public sealed record DiskGeometry(int Cylinders, int Heads, int SectorsPerTrack, ulong TotalSectors, bool IsFloppy, byte FloppyType)
{
    public const int SectorSize = 512;

    public static DiskGeometry For(long imageBytes, byte drive)
    {
        var sectors = (ulong)((imageBytes + SectorSize - 1) / SectorSize);
        if (drive < 0x80)
        {
            // INT 13h AH=08h drive types: 1 = 360K, 2 = 1.2M, 3 = 720K, 4 = 1.44M, 6 = 2.88M.
            var floppy = imageBytes switch
            {
                <= 368_640 => new DiskGeometry(40, 2, 9, sectors, true, 1),
                <= 737_280 => new DiskGeometry(80, 2, 9, sectors, true, 3),
                <= 1_228_800 => new DiskGeometry(80, 2, 15, sectors, true, 2),
                <= 1_474_560 => new DiskGeometry(80, 2, 18, sectors, true, 4),
                _ => new DiskGeometry(80, 2, 36, sectors, true, 6),
            };
            return floppy;
        }
        const int heads = 16, spt = 63;
        var cylinders = (int)Math.Clamp((sectors + heads * spt - 1) / (heads * spt), 1, 1024);
        return new DiskGeometry(cylinders, heads, spt, sectors, false, 0);
    }
}
