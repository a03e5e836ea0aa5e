namespace Sim.Platform.Bios;

/// <summary>
/// INT 13h status codes in AH (Ralf Brown's interrupt list, table 00234), used the way SeaBIOS's
/// disk.c uses them: bad parameters and absent drives give 01h, a drive's refusal of a transfer 0Ch.
/// </summary>
public static class DiskStatus
{
    public const byte Success = 0x00;

    /// <summary>Invalid function in AH or invalid parameter (SeaBIOS DISK_RET_EPARAM).</summary>
    public const byte InvalidParameter = 0x01;

    /// <summary>Disk write-protected (SeaBIOS DISK_RET_EWRITEPROTECT, what it answers for read-only media).</summary>
    public const byte WriteProtected = 0x03;

    /// <summary>Unsupported track or invalid media (SeaBIOS DISK_RET_EBADTRACK, its answer when the drive fails a transfer).</summary>
    public const byte BadTrack = 0x0C;
}
