using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>The 36-byte header every ACPI system description table starts with (ACPI 6.5, 5.2.6).</summary>
public static class SystemDescriptionTableHeader
{
    public const int Size = 36;
    public const int LengthOffset = 4;
    public const int RevisionOffset = 8;
    public const int ChecksumOffset = 9;
    public const int OemIdOffset = 10;
    public const int OemTableIdOffset = 16;
    public const int OemRevisionOffset = 24;
    public const int CreatorIdOffset = 28;
    public const int CreatorRevisionOffset = 32;

    /// <summary>Six characters, padded with spaces, as the RSDP's OEMID must match.</summary>
    public const string OemId = "SIMPC ";
    public const string OemTableIdPrefix = "SIM ";
    public const string CreatorId = "SIM ";
    public const uint OemRevision = 1;
    public const uint CreatorRevision = 1;

    /// <summary>A zeroed table of <paramref name="length"/> bytes with its header filled in and the checksum left at 0.</summary>
    public static byte[] Create(string signature, int length, byte revision)
    {
        var table = new byte[length];
        Encoding.ASCII.GetBytes(signature, table.AsSpan(0, 4));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(LengthOffset), (uint)length);
        table[RevisionOffset] = revision;
        Encoding.ASCII.GetBytes(OemId, table.AsSpan(OemIdOffset, 6));
        // The OEM table ID names the table, so that each one is told apart in a dump.
        Encoding.ASCII.GetBytes(OemTableIdPrefix + signature, table.AsSpan(OemTableIdOffset, 8));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(OemRevisionOffset), OemRevision);
        Encoding.ASCII.GetBytes(CreatorId, table.AsSpan(CreatorIdOffset, 4));
        BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(CreatorRevisionOffset), CreatorRevision);
        return table;
    }
}
