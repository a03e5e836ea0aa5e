namespace Sim.Images.Formats;

/// <summary>One PT_LOAD program header: p_offset, p_vaddr, p_paddr, p_filesz, p_memsz.</summary>
internal sealed record ElfLoadSegment(ulong Offset, ulong VirtualAddress, ulong PhysicalAddress, ulong FileSize, ulong MemorySize);
