using ELFSharp.ELF;
using ELFSharp.ELF.Segments;

namespace Sim.Images.Formats;

/// <summary>The parts of an ELF executable a loader needs, read with ELFSharp and checked against the file size.</summary>
internal sealed class ElfProgram
{
    private ElfProgram(bool is64, Machine machine, ulong entry, IReadOnlyList<ElfLoadSegment> segments)
    {
        Is64 = is64;
        Machine = machine;
        Entry = entry;
        LoadSegments = segments;
    }

    public bool Is64 { get; }

    public Machine Machine { get; }

    /// <summary>e_entry as written in the file.</summary>
    public ulong Entry { get; }

    public IReadOnlyList<ElfLoadSegment> LoadSegments { get; }

    public static bool HasMagic(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 4 && bytes[0] == 0x7F && bytes[1] == (byte)'E' && bytes[2] == (byte)'L' && bytes[3] == (byte)'F';

    /// <summary>EI_CLASS: 1 for ELFCLASS32, 2 for ELFCLASS64, 0 if the identification is truncated.</summary>
    public static int Class(ReadOnlySpan<byte> bytes) => bytes.Length > 4 ? bytes[4] : 0;

    public static ElfProgram Read(byte[] bytes, string name)
    {
        CheckHeaders(bytes, name);
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            if (Class(bytes) == 2)
            {
                var elf = ELFReader.Load<ulong>(stream, shouldOwnStream: false);
                var segments = elf.Segments.Where(s => s.Type == SegmentType.Load)
                    .Select(s => new ElfLoadSegment((ulong)s.Offset, s.Address, s.PhysicalAddress, (ulong)s.FileSize, s.Size))
                    .ToList();
                return Checked(new ElfProgram(true, elf.Machine, elf.EntryPoint, segments), bytes, name);
            }
            else
            {
                var elf = ELFReader.Load<uint>(stream, shouldOwnStream: false);
                var segments = elf.Segments.Where(s => s.Type == SegmentType.Load)
                    .Select(s => new ElfLoadSegment((ulong)s.Offset, s.Address, s.PhysicalAddress, (ulong)s.FileSize, s.Size))
                    .ToList();
                return Checked(new ElfProgram(false, elf.Machine, elf.EntryPoint, segments), bytes, name);
            }
        }
        catch (ImageFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageFormatException(name, $"malformed ELF file ({e.Message})", e);
        }
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
            var data = new byte[segment.MemorySize];
            Array.Copy(bytes, (long)segment.Offset, data, 0, (long)segment.FileSize);
            chunks.Add(new MemoryChunk(segment.PhysicalAddress, data));
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
    /// </summary>
    public ulong PhysicalEntry()
    {
        foreach (var segment in LoadSegments)
        {
            if (Entry >= segment.VirtualAddress && Entry - segment.VirtualAddress < segment.MemorySize)
            {
                return Entry - segment.VirtualAddress + segment.PhysicalAddress;
            }
        }

        return Entry;
    }

    private static ElfProgram Checked(ElfProgram program, byte[] bytes, string name)
    {
        foreach (var segment in program.LoadSegments)
        {
            if (segment.FileSize > segment.MemorySize)
            {
                throw new ImageFormatException(name,
                    $"PT_LOAD segment at p_paddr 0x{segment.PhysicalAddress:X} has p_filesz 0x{segment.FileSize:X} larger than p_memsz 0x{segment.MemorySize:X}");
            }

            if (segment.Offset > (ulong)bytes.Length || segment.FileSize > (ulong)bytes.Length - segment.Offset)
            {
                throw new ImageFormatException(name,
                    $"PT_LOAD segment at file offset 0x{segment.Offset:X} (p_filesz 0x{segment.FileSize:X}) extends past the end of the file (0x{bytes.Length:X} bytes): truncated file");
            }
        }

        return program;
    }

    // ELFSharp reports truncation with assorted exception types; checking the headers first gives a clear message.
    private static void CheckHeaders(byte[] bytes, string name)
    {
        var elfClass = Class(bytes);
        if (elfClass is not (1 or 2))
        {
            throw new ImageFormatException(name, elfClass == 0 ? "truncated ELF identification" : $"unknown ELF class {elfClass}");
        }

        if (bytes.Length > 5 && bytes[5] != 1)
        {
            throw new ImageFormatException(name, "ELF file is not little-endian");
        }

        var is64 = elfClass == 2;
        var headerSize = is64 ? 64 : 52;
        if (bytes.Length < headerSize)
        {
            throw new ImageFormatException(name, $"truncated ELF header ({bytes.Length} of {headerSize} bytes)");
        }

        var span = bytes.AsSpan();
        ulong phoff = is64 ? BitConverter.ToUInt64(span[32..]) : BitConverter.ToUInt32(span[28..]);
        var phentsize = BitConverter.ToUInt16(span[(is64 ? 54 : 42)..]);
        var phnum = BitConverter.ToUInt16(span[(is64 ? 56 : 44)..]);
        if (phnum == 0)
        {
            throw new ImageFormatException(name, "ELF file has no program headers");
        }

        var tableSize = (ulong)phentsize * phnum;
        if (phoff > (ulong)bytes.Length || tableSize > (ulong)bytes.Length - phoff)
        {
            throw new ImageFormatException(name,
                $"ELF program header table (offset 0x{phoff:X}, {phnum} entries) extends past the end of the file (0x{bytes.Length:X} bytes): truncated file");
        }

        ulong shoff = is64 ? BitConverter.ToUInt64(span[40..]) : BitConverter.ToUInt32(span[32..]);
        var shentsize = BitConverter.ToUInt16(span[(is64 ? 58 : 46)..]);
        var shnum = BitConverter.ToUInt16(span[(is64 ? 60 : 48)..]);
        var sectionTableSize = (ulong)shentsize * shnum;
        if (shnum != 0 && (shoff > (ulong)bytes.Length || sectionTableSize > (ulong)bytes.Length - shoff))
        {
            throw new ImageFormatException(name,
                $"ELF section header table (offset 0x{shoff:X}, {shnum} entries) extends past the end of the file (0x{bytes.Length:X} bytes): truncated file");
        }
    }
}
