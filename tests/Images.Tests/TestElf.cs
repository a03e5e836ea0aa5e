using System.Buffers.Binary;

namespace Sim.Images.Tests;

/// <summary>Writes minimal ELF executables (header, program headers, segment data) for loader tests.</summary>
internal static class TestElf
{
    public const ushort EmI386 = 3;
    public const ushort EmX8664 = 62;
    public const uint PtLoad = 1;
    public const uint PtNote = 4;

    public static byte[] Build32(uint entry, params TestSegment[] segments) => Build(false, EmI386, entry, segments);

    public static byte[] Build64(ulong entry, params TestSegment[] segments) => Build(true, EmX8664, entry, segments);

    public static byte[] Build(bool is64, ushort machine, ulong entry, params TestSegment[] segments)
    {
        var headerSize = is64 ? 64 : 52;
        var phentsize = is64 ? 56 : 32;
        var offset = headerSize + (phentsize * segments.Length);
        var offsets = new List<int>();
        foreach (var segment in segments)
        {
            offset = (offset + 15) & ~15;
            offsets.Add(offset);
            offset += segment.Data.Length;
        }

        var file = new byte[offset];
        var s = file.AsSpan();
        s[0] = 0x7F;
        s[1] = (byte)'E';
        s[2] = (byte)'L';
        s[3] = (byte)'F';
        s[4] = (byte)(is64 ? 2 : 1);
        s[5] = 1;
        s[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(s[16..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(s[18..], machine);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 1);
        if (is64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[24..], entry);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], (ulong)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[52..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[54..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[56..], (ushort)segments.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(s[58..], 64);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(s[24..], (uint)entry);
            BinaryPrimitives.WriteUInt32LittleEndian(s[28..], (uint)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[40..], (ushort)headerSize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[42..], (ushort)phentsize);
            BinaryPrimitives.WriteUInt16LittleEndian(s[44..], (ushort)segments.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(s[46..], 40);
        }

        for (var i = 0; i < segments.Length; i++)
        {
            var p = s[(headerSize + (i * phentsize))..];
            var segment = segments[i];
            if (is64)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p, segment.Type);
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], 7);
                BinaryPrimitives.WriteUInt64LittleEndian(p[8..], (ulong)offsets[i]);
                BinaryPrimitives.WriteUInt64LittleEndian(p[16..], segment.VirtualAddress);
                BinaryPrimitives.WriteUInt64LittleEndian(p[24..], segment.PhysicalAddress);
                BinaryPrimitives.WriteUInt64LittleEndian(p[32..], (ulong)segment.Data.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(p[40..], segment.MemorySize);
                BinaryPrimitives.WriteUInt64LittleEndian(p[48..], 0x1000);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(p, segment.Type);
                BinaryPrimitives.WriteUInt32LittleEndian(p[4..], (uint)offsets[i]);
                BinaryPrimitives.WriteUInt32LittleEndian(p[8..], (uint)segment.VirtualAddress);
                BinaryPrimitives.WriteUInt32LittleEndian(p[12..], (uint)segment.PhysicalAddress);
                BinaryPrimitives.WriteUInt32LittleEndian(p[16..], (uint)segment.Data.Length);
                BinaryPrimitives.WriteUInt32LittleEndian(p[20..], (uint)segment.MemorySize);
                BinaryPrimitives.WriteUInt32LittleEndian(p[24..], 7);
                BinaryPrimitives.WriteUInt32LittleEndian(p[28..], 0x1000);
            }

            segment.Data.CopyTo(s[offsets[i]..]);
        }

        return file;
    }

    /// <summary>A Multiboot header (magic, flags, checksum, then any address fields); <paramref name="checksumError"/> breaks the checksum.</summary>
    public static byte[] MultibootHeader(uint flags, uint checksumError = 0, params uint[] addressFields)
    {
        var header = new byte[12 + (4 * addressFields.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x1BADB002);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), unchecked(0u - 0x1BADB002 - flags + checksumError));
        for (var i = 0; i < addressFields.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12 + (4 * i)), addressFields[i]);
        }

        return header;
    }

    /// <summary>Deterministic non-zero filler so that a wrong copy shows.</summary>
    public static byte[] Pattern(int length, byte seed)
    {
        var data = new byte[length];
        for (var i = 0; i < length; i++)
        {
            data[i] = (byte)((i * 7) + seed + 1);
        }

        return data;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}

internal sealed record TestSegment(ulong VirtualAddress, ulong PhysicalAddress, byte[] Data, ulong MemorySize, uint Type = TestElf.PtLoad)
{
    public static TestSegment Load(ulong address, byte[] data, ulong? memorySize = null) =>
        new(address, address, data, memorySize ?? (ulong)data.Length);
}
