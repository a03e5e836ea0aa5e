using System.Buffers.Binary;

namespace Sim.Images.Formats;

/// <summary>
/// The parts of an ELF executable a loader needs: the ELF header and the PT_LOAD program headers,
/// each checked against the file size. Parsed directly rather than with ELFSharp, which misreads
/// valid files without a section header table (e_shnum = 0, e_shoff = 0).
/// </summary>
internal sealed class ElfProgram
{
    public const ushort EmI386 = 3;
    public const ushort EmX8664 = 62;

    private const uint PtLoad = 1;

    private ElfProgram(bool is64, ushort machine, ulong entry, IReadOnlyList<ElfLoadSegment> segments)
    {
        Is64 = is64;
        Machine = machine;
        Entry = entry;
        LoadSegments = segments;
    }

    public bool Is64 { get; }

    /// <summary>e_machine.</summary>
    public ushort Machine { get; }

    /// <summary>e_entry as written in the file.</summary>
    public ulong Entry { get; }

    public IReadOnlyList<ElfLoadSegment> LoadSegments { get; }

    public static bool HasMagic(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && bytes[0] == 0x7F && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F';

    /// <summary>EI_CLASS: 1 for ELFCLASS32, 2 for ELFCLASS64, 0 if the identification is truncated.</summary>
    public static int Class(ReadOnlySpan<byte> bytes) => bytes.Length > 4 ? bytes[4] : 0;

    public static string MachineName(ushort machine) => machine switch
    {
        EmI386 => "EM_386",
        EmX8664 => "EM_X86_64",
        _ => $"{machine}",
    };

    public static ElfProgram Read(byte[] bytes, string name)
    {
        var elfClass = Class(bytes);
        if (elfClass is not (1 or 2))
        {
            throw new ImageFormatException(name, elfClass == 0 ? "truncated ELF identification" : $"unknown ELF class {elfClass}");
        }

        if (bytes.Length <= 5 || bytes[5] != 1)
        {
            throw new ImageFormatException(name, "ELF file is not little-endian (EI_DATA is not ELFDATA2LSB)");
        }

        var is64 = elfClass == 2;
        var headerSize = is64 ? 64 : 52;
        if (bytes.Length < headerSize)
        {
            throw new ImageFormatException(name, $"truncated ELF header ({bytes.Length} of {headerSize} bytes)");
        }

        var span = bytes.AsSpan();
        var type = BinaryPrimitives.ReadUInt16LittleEndian(span[16..]);
        if (type != 2)
        {
            throw new ImageFormatException(name, $"ELF file is not an executable (e_type {type}, expected ET_EXEC 2)");
        }

        var machine = BinaryPrimitives.ReadUInt16LittleEndian(span[18..]);
        var entry = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(span[24..]) : BinaryPrimitives.ReadUInt32LittleEndian(span[24..]);
        var phoff = is64 ? BinaryPrimitives.ReadUInt64LittleEndian(span[32..]) : BinaryPrimitives.ReadUInt32LittleEndian(span[28..]);
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(span[(is64 ? 54 : 42)..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(span[(is64 ? 56 : 44)..]);
        var minimumEntrySize = is64 ? 56 : 32;
        if (phnum == 0)
        {
            throw new ImageFormatException(name, "ELF file has no program headers");
        }

        if (phentsize < minimumEntrySize)
        {
            throw new ImageFormatException(name, $"ELF e_phentsize {phentsize} is smaller than a program header ({minimumEntrySize} bytes)");
        }

        var tableSize = (ulong)phentsize * phnum;
        if (phoff > (ulong)bytes.Length || tableSize > (ulong)bytes.Length - phoff)
        {
            throw new ImageFormatException(name,
                $"ELF program header table (offset 0x{phoff:X}, {phnum} entries) extends past the end of the file (0x{bytes.Length:X} bytes): truncated file");
        }

        var segments = new List<ElfLoadSegment>();
        for (var i = 0; i < phnum; i++)
        {
            var header = span[(int)(phoff + ((ulong)i * phentsize))..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != PtLoad)
            {
                continue;
            }

            var segment = is64
                ? new ElfLoadSegment(
                    BinaryPrimitives.ReadUInt64LittleEndian(header[8..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(header[16..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(header[32..]),
                    BinaryPrimitives.ReadUInt64LittleEndian(header[40..]))
                : new ElfLoadSegment(
                    BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(header[8..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(header[12..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(header[16..]),
                    BinaryPrimitives.ReadUInt32LittleEndian(header[20..]));
            Check(segment, bytes.Length, name);
            segments.Add(segment);
        }

        return new ElfProgram(is64, machine, entry, segments);
    }

    /// <summary>
    /// The loaded chunks, one per PT_LOAD segment at p_paddr, with the part of p_memsz beyond
    /// p_filesz zeroed (the bss).
    /// </summary>
    public IReadOnlyList<MemoryChunk> Chunks(byte[] bytes, string name, ulong memorySize)
    {
        var chunks = new List<MemoryChunk>();
        var pieces = new List<(string, ulong, ulong)>();
        foreach (var segment in LoadSegments.Where(s => s.MemorySize > 0))
        {
            var what = $"segment at p_paddr 0x{segment.PhysicalAddress:X} (p_memsz 0x{segment.MemorySize:X})";
            MemoryPlacement.EnsureInMemory(name, what, segment.PhysicalAddress, segment.MemorySize, memorySize);
            var data = bytes.AsSpan((int)segment.Offset, (int)segment.FileSize).ToArray();
            chunks.Add(new MemoryChunk(segment.PhysicalAddress, data, segment.MemorySize - segment.FileSize));
            pieces.Add((what, segment.PhysicalAddress, segment.MemorySize));
        }

        if (chunks.Count == 0)
        {
            throw new ImageFormatException(name, "ELF file has no PT_LOAD segment to load");
        }

        MemoryPlacement.EnsureNoOverlap(name, pieces);
        return chunks;
    }

    /// <summary>
    /// e_entry translated to a physical address when it lies in a segment whose p_vaddr differs
    /// from its p_paddr, as GRUB 2 does, since the image starts with paging off or identity-mapped.
    /// An entry outside every loaded segment would start the processor in memory the file never
    /// filled, so it is refused.
    /// </summary>
    public ulong PhysicalEntry(string name)
    {
        foreach (var segment in LoadSegments)
        {
            if (Entry >= segment.VirtualAddress && Entry - segment.VirtualAddress < segment.MemorySize)
            {
                return Entry - segment.VirtualAddress + segment.PhysicalAddress;
            }
        }

        throw new ImageFormatException(name, $"ELF e_entry 0x{Entry:X} lies outside every PT_LOAD segment");
    }

    private static void Check(ElfLoadSegment segment, int fileLength, string name)
    {
        if (segment.FileSize > segment.MemorySize)
        {
            throw new ImageFormatException(name,
                $"PT_LOAD segment at p_paddr 0x{segment.PhysicalAddress:X} has p_filesz 0x{segment.FileSize:X} larger than p_memsz 0x{segment.MemorySize:X}");
        }

        if (segment.Offset > (ulong)fileLength || segment.FileSize > (ulong)fileLength - segment.Offset)
        {
            throw new ImageFormatException(name,
                $"PT_LOAD segment at file offset 0x{segment.Offset:X} (p_filesz 0x{segment.FileSize:X}) extends past the end of the file (0x{fileLength:X} bytes): truncated file");
        }

    }
}
