namespace Sim.Images.Formats;

/// <summary>Loads an x86-64 ELF executable's PT_LOAD segments at p_paddr and enters it in 64-bit mode.</summary>
internal static class Elf64Loader
{
    public static BootImage Load(byte[] bytes, string name, ImageLoadOptions options)
    {
        if (!ElfProgram.HasMagic(bytes))
        {
            throw new ImageFormatException(name, "not an ELF file (no 0x7F 'ELF' magic)");
        }

        if (ElfProgram.Class(bytes) != 2)
        {
            throw new ImageFormatException(name, "ELF32 file given as an ELF64 image");
        }

        var program = ElfProgram.Read(bytes, name);
        if (program.Machine != ElfProgram.EmX8664)
        {
            throw new ImageFormatException(name, $"ELF64 file has e_machine {ElfProgram.MachineName(program.Machine)}, expected EM_X86_64");
        }

        var chunks = program.Chunks(bytes, name, options.MemorySize);
        var entry = program.PhysicalEntry(name);
        if (entry > uint.MaxValue)
        {
            throw new ImageFormatException(name, $"ELF64 entry 0x{entry:X} lies above the 4 GiB that the platform identity-maps");
        }

        return new BootImage
        {
            Chunks = chunks,
            Entry = new LongModeEntry(entry, 0, 0),
            Description = $"ELF64 {name}, {chunks.Count} segment(s), 64-bit entry 0x{entry:X}",
        };
    }
}
