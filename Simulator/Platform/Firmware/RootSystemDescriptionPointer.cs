using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>The RSDP, revision 2 (ACPI 6.5, 5.2.5.3): where OSPM finds the RSDT and the XSDT.</summary>
public static class RootSystemDescriptionPointer
{
    public const string Signature = "RSD PTR ";
    public const int ChecksumOffset = 8;
    public const int OemIdOffset = 9;
    public const int RevisionOffset = 15;
    public const int RsdtAddressOffset = 16;
    public const int LengthOffset = 20;
    public const int XsdtAddressOffset = 24;
    public const int ExtendedChecksumOffset = 32;

    /// <summary>The ACPI 1.0 part the first checksum covers.</summary>
    public const int Revision1Length = 20;
    public const int Length = 36;
    public const byte Revision = 2;

    /// <summary>The structure with both checksums left at 0 and the addresses given.</summary>
    public static byte[] Build(uint rsdtAddress, ulong xsdtAddress)
    {
        var rsdp = new byte[Length];
        Encoding.ASCII.GetBytes(Signature, rsdp);
        Encoding.ASCII.GetBytes(SystemDescriptionTableHeader.OemId, rsdp.AsSpan(OemIdOffset, 6));
        rsdp[RevisionOffset] = Revision;
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(RsdtAddressOffset), rsdtAddress);
        BinaryPrimitives.WriteUInt32LittleEndian(rsdp.AsSpan(LengthOffset), Length);
        BinaryPrimitives.WriteUInt64LittleEndian(rsdp.AsSpan(XsdtAddressOffset), xsdtAddress);
        return rsdp;
    }
}
