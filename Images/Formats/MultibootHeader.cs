using System.Buffers.Binary;

namespace Sim.Images.Formats;

/// <summary>
/// The Multiboot (0.6.96) header: magic 0x1BADB002, flags and checksum, 32-bit aligned within
/// the first 8192 bytes of the image; with flag bit 16 the a.out kludge address fields follow.
/// </summary>
internal sealed record MultibootHeader(int Offset, uint Flags, uint HeaderAddr, uint LoadAddr, uint LoadEndAddr, uint BssEndAddr, uint EntryAddr)
{
    public const uint Magic = 0x1BADB002;
    public const int SearchLength = 8192;

    /// <summary>Bit 0: align modules on 4 KiB page boundaries.</summary>
    public const uint PageAlignFlag = 1u << 0;

    /// <summary>Bit 1: the kernel wants mem_* and (if available) mmap_* in the information structure.</summary>
    public const uint MemoryInfoFlag = 1u << 1;

    /// <summary>Bit 2: the kernel wants the video mode table.</summary>
    public const uint VideoModeFlag = 1u << 2;

    /// <summary>Bit 16: the address fields at offsets 12-28 are valid (the "a.out kludge").</summary>
    public const uint AddressFieldsFlag = 1u << 16;

    public bool HasAddressFields => (Flags & AddressFieldsFlag) != 0;

    /// <summary>
    /// Finds the first header whose checksum is right. <paramref name="badChecksumOffset"/> is the
    /// offset of the first magic whose checksum was wrong, or -1.
    /// </summary>
    public static MultibootHeader? Find(ReadOnlySpan<byte> image, out int badChecksumOffset)
    {
        badChecksumOffset = -1;
        var limit = Math.Min(image.Length, SearchLength) - 12;
        for (var offset = 0; offset <= limit; offset += 4)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(image[offset..]) != Magic)
            {
                continue;
            }

            var flags = BinaryPrimitives.ReadUInt32LittleEndian(image[(offset + 4)..]);
            var checksum = BinaryPrimitives.ReadUInt32LittleEndian(image[(offset + 8)..]);
            if (unchecked(Magic + flags + checksum) != 0)
            {
                if (badChecksumOffset < 0)
                {
                    badChecksumOffset = offset;
                }

                continue;
            }

            return new MultibootHeader(offset, flags, Field(image, offset + 12), Field(image, offset + 16),
                Field(image, offset + 20), Field(image, offset + 24), Field(image, offset + 28));
        }

        return null;
    }

    // Address fields past the end of a short file read as 0; the loader checks the length when it needs them.
    private static uint Field(ReadOnlySpan<byte> image, int at) =>
        at + 4 <= image.Length ? BinaryPrimitives.ReadUInt32LittleEndian(image[at..]) : 0;
}
