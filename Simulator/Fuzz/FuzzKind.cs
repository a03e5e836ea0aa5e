namespace Sim.Fuzz;

/// <summary>What a fuzz case exercises.</summary>
public enum FuzzKind
{
    /// <summary>Random code in real mode, entered through the BIOS.</summary>
    RealMode,

    /// <summary>Random code in a 16-bit code segment of protected mode.</summary>
    ProtectedMode16,

    /// <summary>Random code in 32-bit protected mode, with or without paging, at CPL 0 or 3.</summary>
    ProtectedMode32,

    /// <summary>Random code in virtual-8086 mode.</summary>
    Virtual8086,

    /// <summary>Random code in 64-bit mode at CPL 0 or 3.</summary>
    LongMode,

    /// <summary>Random code in a 32-bit segment of long mode (compatibility mode).</summary>
    CompatibilityMode,

    /// <summary>A VT-x hypervisor with a random VMCS entering a nested guest of random code.</summary>
    Vmx,

    /// <summary>An AMD-V hypervisor with a random VMCB entering a nested guest of random code.</summary>
    Svm,

    /// <summary>A boot sector calling random BIOS services with random registers.</summary>
    Bios,

    /// <summary>IN and OUT of random sizes to the devices' ports and random ports.</summary>
    PortIo,

    /// <summary>Loads and stores at random physical addresses: RAM, above RAM, near and above 4 GiB.</summary>
    Mmio,

    /// <summary>A mutated image (raw, boot sector, Multiboot ELF32 or a.out kludge, ELF64) through the loader.</summary>
    Image,
}
