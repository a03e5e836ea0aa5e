using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>The FACS (ACPI 6.5, 5.2.10): 64 bytes, 64-byte aligned, no checksum; the waking vectors and the global lock stay 0.</summary>
public static class FirmwareAcpiControlStructure
{
    public const int Length = 64;
    public const int Alignment = 64;
    public const int VersionOffset = 32;
    public const byte Version = 2;

    public static byte[] Build()
    {
        var facs = new byte[Length];
        Encoding.ASCII.GetBytes("FACS", facs);
        BinaryPrimitives.WriteUInt32LittleEndian(facs.AsSpan(4), Length);
        facs[VersionOffset] = Version;
        return facs;
    }
}
