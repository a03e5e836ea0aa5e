using System.Buffers.Binary;
using System.Text;

namespace Sim.Images.Formats;

/// <summary>
/// Builds the Multiboot information structure (spec 0.6.96, section 3.3) with its memory map,
/// command line, module list and boot loader name, as one chunk of guest memory below 1 MiB.
/// </summary>
internal static class MultibootInformation
{
    public const uint BootloaderMagic = 0x2BADB002;

    public const uint MemoryFlag = 1u << 0;
    public const uint CmdlineFlag = 1u << 2;
    public const uint ModsFlag = 1u << 3;
    public const uint MmapFlag = 1u << 6;
    public const uint BootLoaderNameFlag = 1u << 9;

    public const int FlagsOffset = 0;
    public const int MemLowerOffset = 4;
    public const int MemUpperOffset = 8;
    public const int CmdlineOffset = 16;
    public const int ModsCountOffset = 20;
    public const int ModsAddrOffset = 24;
    public const int MmapLengthOffset = 44;
    public const int MmapAddrOffset = 48;
    public const int BootLoaderNameOffset = 64;

    /// <summary>Room for every field up to the framebuffer fields of later spec versions, zeroed.</summary>
    public const int StructureSize = 128;

    public const uint MemoryAvailable = 1;
    public const uint MemoryReserved = 2;

    /// <summary>The end of conventional memory below the extended BIOS data area.</summary>
    public const ulong LowMemoryEnd = 0x9FC00;

    /// <summary>The firmware tables (E0000h) and the BIOS ROM (F0000h) up to 1 MiB, as the platform's E820 map reports them.</summary>
    public const ulong FirmwareAreaBase = 0xE0000;

    public const ulong PreferredAddress = 0x9000;
    public const string BootLoaderName = "sim";

    public static (ulong Base, ulong Length, uint Type)[] MemoryMap(ulong memorySize)
    {
        var map = new List<(ulong, ulong, uint)>
        {
            (0, Math.Min(LowMemoryEnd, memorySize), MemoryAvailable),
            (LowMemoryEnd, 0xA0000 - LowMemoryEnd, MemoryReserved),
            (FirmwareAreaBase, 0x100000 - FirmwareAreaBase, MemoryReserved),
        };
        if (memorySize > 0x100000)
        {
            map.Add((0x100000, memorySize - 0x100000, MemoryAvailable));
        }

        return [.. map];
    }

    /// <summary>Builds the structure at an address below 1 MiB that overlaps none of <paramref name="occupied"/>.</summary>
    public static MemoryChunk Build(string name, string commandLine, IReadOnlyList<MultibootModule> modules, ulong memorySize,
        IReadOnlyList<(string What, ulong Address, ulong Length)> occupied)
    {
        var map = MemoryMap(memorySize);
        var mmapOffset = StructureSize;
        var modsOffset = mmapOffset + (map.Length * 24);
        var stringsOffset = modsOffset + (modules.Count * 16);
        var strings = new List<string> { commandLine, BootLoaderName };
        strings.AddRange(modules.Select(m => m.String));
        var size = stringsOffset + strings.Sum(s => Encoding.UTF8.GetByteCount(s) + 1);

        var address = ChooseAddress(name, (ulong)size, memorySize, occupied);
        var data = new byte[size];
        var span = data.AsSpan();
        var a = (uint)address;

        var stringAddresses = new List<uint>();
        var cursor = stringsOffset;
        foreach (var s in strings)
        {
            stringAddresses.Add(a + (uint)cursor);
            cursor += Encoding.UTF8.GetBytes(s, span[cursor..]) + 1;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[FlagsOffset..], MemoryFlag | CmdlineFlag | ModsFlag | MmapFlag | BootLoaderNameFlag);
        BinaryPrimitives.WriteUInt32LittleEndian(span[MemLowerOffset..], (uint)(Math.Min(LowMemoryEnd, memorySize) / 1024));
        BinaryPrimitives.WriteUInt32LittleEndian(span[MemUpperOffset..], (uint)(memorySize > 0x100000 ? (memorySize - 0x100000) / 1024 : 0));
        BinaryPrimitives.WriteUInt32LittleEndian(span[CmdlineOffset..], stringAddresses[0]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ModsCountOffset..], (uint)modules.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(span[ModsAddrOffset..], a + (uint)modsOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[MmapLengthOffset..], (uint)(map.Length * 24));
        BinaryPrimitives.WriteUInt32LittleEndian(span[MmapAddrOffset..], a + (uint)mmapOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(span[BootLoaderNameOffset..], stringAddresses[1]);

        for (var i = 0; i < map.Length; i++)
        {
            // Each entry's size field excludes itself, so a kernel steps by size + 4.
            var entry = span[(mmapOffset + (i * 24))..];
            BinaryPrimitives.WriteUInt32LittleEndian(entry, 20);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[4..], map[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(entry[12..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], map[i].Type);
        }

        for (var i = 0; i < modules.Count; i++)
        {
            var entry = span[(modsOffset + (i * 16))..];
            BinaryPrimitives.WriteUInt32LittleEndian(entry, modules[i].ModStart);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[4..], modules[i].ModEnd);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], stringAddresses[2 + i]);
        }

        return new MemoryChunk(address, data);
    }

    private static ulong ChooseAddress(string name, ulong size, ulong memorySize, IReadOnlyList<(string What, ulong Address, ulong Length)> occupied)
    {
        var limit = Math.Min(LowMemoryEnd, memorySize);
        var candidates = Enumerable.Range(0, (int)(LowMemoryEnd / 0x1000))
            .Select(i => PreferredAddress + ((ulong)i * 0x1000))
            .Concat(Enumerable.Range(1, (int)(PreferredAddress / 0x1000) - 1).Select(i => (ulong)i * 0x1000));
        foreach (var candidate in candidates)
        {
            if (candidate + size > limit)
            {
                continue;
            }

            if (occupied.All(p => p.Length == 0 || candidate + size <= p.Address || p.Address + p.Length <= candidate))
            {
                return candidate;
            }
        }

        throw new ImageFormatException(name, $"no free room below 0x{limit:X} for the {size}-byte Multiboot information structure");
    }
}
