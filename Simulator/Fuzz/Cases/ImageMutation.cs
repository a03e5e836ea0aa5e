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
}
