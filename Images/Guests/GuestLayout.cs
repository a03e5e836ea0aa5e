namespace Sim.Images.Guests;

/// <summary>Where the built-in guests put things in guest-physical memory; all of it lies below 1 MiB except work areas.</summary>
public static class GuestLayout
{
    /// <summary>The boot sector keeps the BIOS boot drive and its disk geometry here.</summary>
    public const ushort BootVariables = 0x0600;

    /// <summary>GDTR pseudo-descriptor (limit, base).</summary>
    public const uint GdtrAddress = 0x0800;

    /// <summary>GDT: null, 0x08 flat 32-bit code, 0x10 flat data, 0x18 64-bit code.</summary>
    public const uint GdtAddress = 0x0810;

    public const ushort Code32Selector = 0x08;
    public const ushort DataSelector = 0x10;
    public const ushort Code64Selector = 0x18;

    /// <summary>Program variables of the guests.</summary>
    public const uint Variables = 0x0A00;

    /// <summary>PML4, PDPT and page directory for the identity map of the first 1 GiB (2 MiB pages).</summary>
    public const uint Pml4Address = 0x1000;
    public const uint PdptAddress = 0x2000;
    public const uint PageDirectoryAddress = 0x3000;

    /// <summary>Where the payload is loaded and entered, in both the floppy and the direct form.</summary>
    public const uint PayloadAddress = 0x10000;

    /// <summary>Offset in the payload of the 32-bit code that runs with the guest's own GDT loaded.</summary>
    public const uint FlatCodeOffset = 0x80;

    /// <summary>Offset in the payload of the 64-bit program of a long-mode guest.</summary>
    public const uint LongModeCodeOffset = 0x200;

    /// <summary>Initial stack pointer; the stack grows down towards the payload.</summary>
    public const uint StackTop = 0x80000;

    /// <summary>The largest payload that fits between <see cref="PayloadAddress"/> and the stack.</summary>
    public const int MaxPayloadSize = 0x60000;

    /// <summary>Scratch memory for guest work areas, at 1 MiB (needs A20 on).</summary>
    public const uint WorkArea = 0x100000;
}
