using System.Buffers.Binary;

namespace Sim.Fuzz.Cases;

/// <summary>Damage to an image: bit flips, header fields set to edge values, bytes inserted, removed, truncated or appended.</summary>
internal static class ImageMutation
{
    /// <summary>The headers the loaders parse lie in the first few KiB (ELF and program headers, the Multiboot header, the boot sector).</summary>
    private const int HeaderArea = 0x200;

    public static byte[] Mutate(byte[] image, Random rng, ulong memoryBytes)
    {
        var bytes = new List<byte>(image);
        for (var n = rng.Next(1, 5); n > 0; n--)
        {
            if (bytes.Count == 0) break;
            var offset = rng.Next(4) != 0 ? rng.Next(Math.Min(HeaderArea, bytes.Count)) : rng.Next(bytes.Count);
            switch (rng.Next(10))
            {
                case < 3:
                    bytes[offset] ^= (byte)(1 << rng.Next(8));
                    break;
                case < 6:
                    var width = new[] { 2, 4, 8 }[rng.Next(3)];
                    offset &= ~(width - 1);
                    var value = Field(rng, (ulong)image.Length, memoryBytes);
                    for (var i = 0; i < width && offset + i < bytes.Count; i++) bytes[offset + i] = (byte)(value >> (8 * i));
                    break;
                case 6:
                    var insert = new byte[rng.Next(1, 64)];
                    rng.NextBytes(insert);
                    bytes.InsertRange(offset, insert);
                    break;
                case 7:
                    bytes.RemoveRange(offset, Math.Min(rng.Next(1, 64), bytes.Count - offset));
                    break;
                case 8:
                    bytes.RemoveRange(offset, bytes.Count - offset);
                    break;
                default:
                    var tail = new byte[rng.Next(1, 0x1000)];
                    rng.NextBytes(tail);
                    bytes.AddRange(tail);
                    break;
            }
        }
        return bytes.ToArray();
    }

    private static ulong Field(Random rng, ulong length, ulong memoryBytes) => rng.Next(8) switch
    {
        0 => length + (ulong)rng.Next(-8, 9),
        1 => memoryBytes - (ulong)rng.Next(0x20000),
        2 => memoryBytes + (ulong)rng.Next(0x10000),
        3 => 0xFFFF_FFFFUL - (ulong)rng.Next(0x1000),
        4 => (ulong)rng.Next(0x20000),
        _ => RandomCode.Value(rng),
    };

    /// <summary>Whether <paramref name="image"/> is an ELF file with a program header whose sizes exceed 2 GiB (a known failure).</summary>
    public static bool HasHugeElfSegment(byte[] image)
    {
        if (image.Length < 0x34 || image[0] != 0x7F || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F') return false;
        var elf64 = image[4] == 2;
        if (image.Length < (elf64 ? 0x40 : 0x34)) return false;
        var phoff = elf64 ? BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan(0x20)) : BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan(0x1C));
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(elf64 ? 0x36 : 0x2A));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(image.AsSpan(elf64 ? 0x38 : 0x2C));
        for (ulong i = 0; i < phnum; i++)
        {
            var at = phoff + i * phentsize;
            if (at >= (ulong)image.Length) return false;
            ulong fileSize, memorySize;
            if (elf64)
            {
                if (at + 48 > (ulong)image.Length) return false;
                fileSize = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan((int)at + 32));
                memorySize = BinaryPrimitives.ReadUInt64LittleEndian(image.AsSpan((int)at + 40));
            }
            else
            {
                if (at + 24 > (ulong)image.Length) return false;
                fileSize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan((int)at + 16));
                memorySize = BinaryPrimitives.ReadUInt32LittleEndian(image.AsSpan((int)at + 20));
            }
            if (fileSize > int.MaxValue || memorySize > int.MaxValue) return true;
        }
        return false;
    }
}
