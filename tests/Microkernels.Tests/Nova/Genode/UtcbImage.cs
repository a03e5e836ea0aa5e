using System.Buffers.Binary;
using Sim.Cpu.Memory;

namespace Sim.Microkernels.Tests.Nova.Genode;

/// <summary>A UTCB page in simulated memory, pre-filled with a known byte pattern that tests compare against.</summary>
internal sealed class UtcbImage : IDisposable
{
    public const ulong Address = 0x3000;

    public PhysicalMemory Memory { get; } = new(0x10000);

    /// <summary>The bytes written before the call under test.</summary>
    public byte[] Pattern { get; } = new byte[4096];

    public UtcbImage()
    {
        for (var i = 0; i < Pattern.Length; i++)
            Pattern[i] = (byte)(0x11 + i * 13 + (i >> 8) * 7);
        Memory.WriteBytes(Address, Pattern);
    }

    /// <summary>The little-endian value of <paramref name="size"/> pattern bytes at <paramref name="offset"/>.</summary>
    public ulong PatternValue(int offset, int size)
    {
        var v = BinaryPrimitives.ReadUInt64LittleEndian(Pattern.AsSpan(offset, 8));
        return size == 8 ? v : v & ((1UL << (8 * size)) - 1);
    }

    public void SetWord(int offset, ulong value) => Memory.Write(Address + (ulong)offset, 8, value);

    public byte[] Page()
    {
        var page = new byte[4096];
        Memory.ReadBytes(Address, page);
        return page;
    }

    /// <summary>Stores <paramref name="value"/> little-endian in <paramref name="image"/>, as the expected page of a write.</summary>
    public static void Put(byte[] image, int offset, int size, ulong value)
    {
        for (var i = 0; i < size; i++)
            image[offset + i] = (byte)(value >> (8 * i));
    }

    public void Dispose() => Memory.Dispose();
}
