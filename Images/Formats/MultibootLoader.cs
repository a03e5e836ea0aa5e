namespace Sim.Images.Formats;

/// <summary>
/// Loads a Multiboot (0.6.96) kernel, ELF or a.out kludge, with its modules, and builds the
/// information structure; the kernel starts with EAX = 0x2BADB002 and EBX = the structure's address.
/// </summary>
internal static class MultibootLoader
{
    private const ulong PageSize = 0x1000;

    // Bits 0-15 are requirements: a boot loader that cannot meet one must refuse the kernel.
    // Bit 2 (video mode) is tolerated as QEMU does: the kernel sees no VBE flag in the information structure.
    private const uint SupportedRequirements = MultibootHeader.PageAlignFlag | MultibootHeader.MemoryInfoFlag | MultibootHeader.VideoModeFlag;

    public static BootImage Load(byte[] bytes, string name, ImageLoadOptions options)
    {
        var header = MultibootHeader.Find(bytes, out var badChecksumOffset)
            ?? throw new ImageFormatException(name, badChecksumOffset >= 0
                ? $"Multiboot header at offset 0x{badChecksumOffset:X} has a bad checksum (magic + flags + checksum must be 0)"
                : $"no Multiboot header (magic 0x{MultibootHeader.Magic:X8}) in the first {MultibootHeader.SearchLength} bytes");

        var unsupported = header.Flags & 0xFFFF & ~SupportedRequirements;
        if (unsupported != 0)
        {
            throw new ImageFormatException(name, $"Multiboot header requires unsupported features (flags 0x{unsupported:X4})");
        }

        string kind;
        IReadOnlyList<MemoryChunk> kernel;
        uint entry;
        if (header.HasAddressFields)
        {
            (kernel, entry) = LoadAddressFields(bytes, name, header, options.MemorySize);
            kind = "a.out kludge";
        }
        else if (ElfProgram.HasMagic(bytes))
        {
            (kernel, entry) = LoadElf(bytes, name, options.MemorySize);
            kind = ElfProgram.Class(bytes) == 2 ? "ELF64" : "ELF32";
        }
        else
        {
            throw new ImageFormatException(name, "Multiboot header lacks the address fields (flag bit 16) that a non-ELF kernel needs");
        }

        var occupied = kernel.Select(c => ($"kernel at 0x{c.Address:X}", c.Address, c.Length)).ToList();
        var chunks = new List<MemoryChunk>(kernel);
        var modules = LoadModules(name, options, kernel.Max(c => c.End), chunks, occupied);

        var commandLine = options.CommandLine.Length == 0 ? name : $"{name} {options.CommandLine}";
        var information = MultibootInformation.Build(name, commandLine, modules, options.MemorySize, occupied);
        chunks.Add(information);

        return new BootImage
        {
            Chunks = chunks,
            Entry = new ProtectedModeEntry(entry, MultibootInformation.BootloaderMagic, (uint)information.Address),
            Description = $"Multiboot {kind} kernel {name}, entry 0x{entry:X8}, {modules.Count} module(s), information structure at 0x{information.Address:X}",
        };
    }

    private static (IReadOnlyList<MemoryChunk>, uint) LoadAddressFields(byte[] bytes, string name, MultibootHeader header, ulong memorySize)
    {
        if (header.Offset + 32 > bytes.Length)
        {
            throw new ImageFormatException(name, "Multiboot header with flag bit 16 is truncated before its address fields");
        }

        if (header.LoadAddr > header.HeaderAddr)
        {
            throw new ImageFormatException(name, $"Multiboot load_addr 0x{header.LoadAddr:X} is above header_addr 0x{header.HeaderAddr:X}");
        }

        // header_addr - load_addr is how far into the loaded text the header lies.
        var fileOffset = (long)header.Offset - (header.HeaderAddr - header.LoadAddr);
        if (fileOffset < 0)
        {
            throw new ImageFormatException(name,
                $"Multiboot header_addr 0x{header.HeaderAddr:X} and load_addr 0x{header.LoadAddr:X} put the load start before the beginning of the file");
        }

        long loadLength;
        if (header.LoadEndAddr == 0)
        {
            loadLength = bytes.Length - fileOffset;
        }
        else if (header.LoadEndAddr < header.LoadAddr)
        {
            throw new ImageFormatException(name, $"Multiboot load_end_addr 0x{header.LoadEndAddr:X} is below load_addr 0x{header.LoadAddr:X}");
        }
        else
        {
            loadLength = header.LoadEndAddr - header.LoadAddr;
            if (fileOffset + loadLength > bytes.Length)
            {
                throw new ImageFormatException(name,
                    $"Multiboot load_end_addr 0x{header.LoadEndAddr:X} needs 0x{fileOffset + loadLength:X} bytes of file but it has 0x{bytes.Length:X}: truncated file");
            }
        }

        var loadEnd = header.LoadAddr + (ulong)loadLength;
        ulong end = loadEnd;
        if (header.BssEndAddr != 0)
        {
            if (header.BssEndAddr < loadEnd)
            {
                throw new ImageFormatException(name, $"Multiboot bss_end_addr 0x{header.BssEndAddr:X} is below the end of the loaded text 0x{loadEnd:X}");
            }

            end = header.BssEndAddr;
        }

        MemoryPlacement.EnsureInMemory(name, "kernel", header.LoadAddr, end - header.LoadAddr, memorySize);
        if (header.EntryAddr < header.LoadAddr || header.EntryAddr >= end)
        {
            throw new ImageFormatException(name, $"Multiboot entry_addr 0x{header.EntryAddr:X} lies outside the loaded kernel 0x{header.LoadAddr:X}-0x{end:X}");
        }

        var data = bytes.AsSpan((int)fileOffset, (int)loadLength).ToArray();
        return ([new MemoryChunk(header.LoadAddr, data, end - loadEnd)], header.EntryAddr);
    }

    private static (IReadOnlyList<MemoryChunk>, uint) LoadElf(byte[] bytes, string name, ulong memorySize)
    {
        var program = ElfProgram.Read(bytes, name);
        var expected = program.Is64 ? ElfProgram.EmX8664 : ElfProgram.EmI386;
        if (program.Machine != expected)
        {
            throw new ImageFormatException(name, $"{(program.Is64 ? "ELF64" : "ELF32")} Multiboot kernel has e_machine {ElfProgram.MachineName(program.Machine)}, expected {ElfProgram.MachineName(expected)}");
        }

        var chunks = program.Chunks(bytes, name, Math.Min(memorySize, 1UL << 32));
        var entry = program.PhysicalEntry(name);
        if (entry > uint.MaxValue)
        {
            throw new ImageFormatException(name, $"Multiboot kernel entry 0x{entry:X} is not a 32-bit address");
        }

        return (chunks, (uint)entry);
    }

    private static List<MultibootModule> LoadModules(string name, ImageLoadOptions options, ulong kernelEnd,
        List<MemoryChunk> chunks, List<(string What, ulong Address, ulong Length)> occupied)
    {
        var modules = new List<MultibootModule>();
        var cursor = MemoryPlacement.AlignUp(kernelEnd, PageSize);
        foreach (var module in options.Modules ?? [])
        {
            var path = ImageLoadOptions.ModulePath(module)
                ?? throw new ImageFormatException(name, "empty Multiboot module specification");
            var data = ImageFile.Read(path, "module", options.MemorySize);
            MemoryPlacement.EnsureInMemory(name, $"module {path}", cursor, (ulong)data.Length, Math.Min(options.MemorySize, 1UL << 32));
            chunks.Add(new MemoryChunk(cursor, data));
            occupied.Add(($"module {path}", cursor, (ulong)data.Length));
            modules.Add(new MultibootModule((uint)cursor, (uint)(cursor + (ulong)data.Length), module.Trim()));
            cursor = MemoryPlacement.AlignUp(cursor + (ulong)data.Length, PageSize);
        }

        return modules;
    }
}
