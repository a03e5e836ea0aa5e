namespace Sim.Platform.Firmware;

/// <summary>The 8-bit checksum ACPI and the MP specification use: all bytes of a structure, the checksum included, add up to 0.</summary>
public static class TableChecksum
{
    public static byte Sum(ReadOnlySpan<byte> bytes)
    {
        byte sum = 0;
        foreach (var b in bytes) sum += b;
        return sum;
    }

    /// <summary>Sets <paramref name="bytes"/>[<paramref name="checksumOffset"/>] so that the whole span adds up to 0.</summary>
    public static void Fix(Span<byte> bytes, int checksumOffset)
    {
        bytes[checksumOffset] = 0;
        bytes[checksumOffset] = (byte)-Sum(bytes);
    }
}
