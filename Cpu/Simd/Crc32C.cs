using System.Runtime.Intrinsics.X86;

namespace Sim.Cpu.Simd;

/// <summary>
/// CRC32 (SDM vol. 2, CRC32): the CRC-32C (Castagnoli) polynomial 11EDC6F41h in its bit-reflected form 82F63B78h,
/// accumulated over 1, 2, 4 or 8 bytes with no pre- or post-inversion. The host's SSE4.2 instruction gives the same
/// result; the table path serves hosts without it.
/// </summary>
internal static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F6_3B78;

    private static readonly uint[] Table = CreateTable();

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (var i = 0u; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ ReflectedPolynomial : c >> 1;
            table[i] = c;
        }
        return table;
    }

    /// <summary>The accumulated CRC of <paramref name="crc"/> and the low <paramref name="bytes"/> bytes of <paramref name="data"/>.</summary>
    public static uint Accumulate(uint crc, ulong data, int bytes)
    {
        if (Sse42.X64.IsSupported)
        {
            return bytes switch
            {
                1 => Sse42.Crc32(crc, (byte)data),
                2 => Sse42.Crc32(crc, (ushort)data),
                4 => Sse42.Crc32(crc, (uint)data),
                _ => (uint)Sse42.X64.Crc32(crc, data),
            };
        }
        return Software(crc, data, bytes);
    }

    /// <summary>The table-driven computation, byte by byte from the least significant.</summary>
    public static uint Software(uint crc, ulong data, int bytes)
    {
        for (var i = 0; i < bytes; i++) crc = (crc >> 8) ^ Table[(byte)(crc ^ (data >> (8 * i)))];
        return crc;
    }
}
