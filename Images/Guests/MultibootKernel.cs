using System.Buffers.Binary;

namespace Sim.Images.Guests;

/// <summary>
/// Wraps a guest payload as a Multiboot ELF32 kernel (one PT_LOAD segment at the payload address,
/// the Multiboot header right after the program header), so that Multiboot loaders such as
/// QEMU's -kernel or GRUB start the same code in the Multiboot machine state.
/// </summary>
public static class MultibootKernel
{
    private const int ElfHeaderSize = 52;
    private const int ProgramHeaderSize = 32;
    private const int MultibootHeaderOffset = ElfHeaderSize + ProgramHeaderSize;

    /// <summary>The segment's file offset, congruent to its address modulo the 4 KiB alignment.</summary>
    private const int SegmentOffset = 0x1000;

    // Page-align modules and provide memory information; no address fields, the ELF headers say where to load.
    private const uint HeaderFlags = 0x00000003;

    public static byte[] Create(byte[] payload, uint address = GuestLayout.PayloadAddress)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var file = new byte[SegmentOffset + payload.Length];
        var s = file.AsSpan();
        s[0] = 0x7F;
        s[1] = (byte)'E';
        s[2] = (byte)'L';
        s[3] = (byte)'F';
        s[4] = 1; // ELFCLASS32
        s[5] = 1; // ELFDATA2LSB
        s[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], 3); // EM_386
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], ElfHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[40..], ElfHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[42..], ProgramHeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(s[44..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(s[46..], 40);

        var p = s[ElfHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(p, 1); // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], SegmentOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(p[8..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(p[12..], address);
        BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[20..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(p[24..], 7); // PF_R | PF_W | PF_X
        BinaryPrimitives.WriteUInt32LittleEndian(p[28..], 0x1000);

        var m = s[MultibootHeaderOffset..];
        BinaryPrimitives.WriteUInt32LittleEndian(m, Formats.MultibootHeader.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(m[4..], HeaderFlags);
        BinaryPrimitives.WriteUInt32LittleEndian(m[8..], unchecked(0u - Formats.MultibootHeader.Magic - HeaderFlags));

        payload.CopyTo(s[SegmentOffset..]);
        return file;
    }
}
