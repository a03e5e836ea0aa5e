using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>
/// The MP floating pointer structure (Intel MultiProcessor Specification 1.4, 4.1): 16 bytes on a 16-byte
/// boundary pointing at the MP configuration table; feature byte 2's IMCRP bit clear says the machine
/// starts in virtual wire mode, not PIC mode.
/// </summary>
public static class MpFloatingPointer
{
    public const string Signature = "_MP_";
    public const int Length = 16;
    public const int PhysicalAddressOffset = 4;
    public const int LengthOffset = 8;
    public const int SpecRevOffset = 9;
    public const int ChecksumOffset = 10;
    public const int FeatureByte1Offset = 11;
    public const int FeatureByte2Offset = 12;

    /// <summary>Version 1.4 of the specification.</summary>
    public const byte SpecRev = 4;

    public static byte[] Build(uint configurationTable)
    {
        var p = new byte[Length];
        Encoding.ASCII.GetBytes(Signature, p);
        BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(PhysicalAddressOffset), configurationTable);
        p[LengthOffset] = Length / 16;
        p[SpecRevOffset] = SpecRev;
        // Feature byte 1 = 0: a configuration table is present, not a default configuration.
        TableChecksum.Fix(p, ChecksumOffset);
        return p;
    }
}
