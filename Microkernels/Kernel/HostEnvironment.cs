using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// Puts a processor where a kernel runs: 64-bit mode at CPL 0 with a flat GDT (64-bit code 08h,
/// data 10h, a 64-bit TSS at 18h, 32-bit code 28h), an IDT, a TSS and identity page tables of the
/// first 4 GiB in 2 MiB pages, all in a page-aligned area of <see cref="AreaSize"/> bytes; on Intel
/// with CR4.VMXE and IA32_FEATURE_CONTROL locked with VMXON outside SMX enabled (SDM vol. 3,
/// 24.7), on AMD with EFER.SVME (APM vol. 2, 15.4). Processors may share one area.
/// </summary>
public static class HostEnvironment
{
    public const ushort CodeSelector = 0x08, DataSelector = 0x10, TssSelector = 0x18, Code32Selector = 0x28;

    /// <summary>GDT and IDT page, TSS page, PML4, PDPT and four page directories.</summary>
    public const ulong AreaSize = 8 * PhysicalMemory.PageSize;

    private const ulong GdtOffset = 0, IdtOffset = 0x800, TssOffset = 0x1000, Pml4Offset = 0x2000;

    public const ulong HostCr0 = Cr0.PE | Cr0.MP | Cr0.NE | Cr0.ET | Cr0.PG;

    /// <summary>Writes the tables into <paramref name="area"/>; once per area.</summary>
    public static void WriteTables(PhysicalMemory memory, ulong area)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (area % PhysicalMemory.PageSize != 0) throw new ArgumentException("the host area must be page aligned", nameof(area));
        memory.Zero(area, AreaSize);
        var gdt = area + GdtOffset;
        var tss = area + TssOffset;
        memory.Write(gdt + CodeSelector, 8, 0x00AF9B000000FFFFUL);
        memory.Write(gdt + DataSelector, 8, 0x00CF93000000FFFFUL);
        memory.Write(gdt + TssSelector, 8, 0x0000890000000067UL | ((tss & 0xFFFFFF) << 16) | (((tss >> 24) & 0xFF) << 56));
        memory.Write(gdt + TssSelector + 8, 8, tss >> 32);
        memory.Write(gdt + Code32Selector, 8, 0x00CF9B000000FFFFUL);
        var pml4 = area + Pml4Offset;
        var pdpt = pml4 + 0x1000;
        memory.Write(pml4, 8, pdpt | 3);
        for (ulong i = 0; i < 4; i++)
        {
            var pd = pdpt + 0x1000 * (i + 1);
            memory.Write(pdpt + i * 8, 8, pd | 3);
            for (ulong j = 0; j < 512; j++) memory.Write(pd + j * 8, 8, (i << 30) | (j << 21) | 0x83);
        }
    }

    /// <summary>Loads <paramref name="cpu"/> into the host environment of an area written by <see cref="WriteTables"/>; returns the state the units' host areas need.</summary>
    public static HostState Enter(Processor cpu, ulong area, CpuVendor vendor)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        var cr4 = Cr4.PAE | Cr4.OSFXSR | Cr4.OSXMMEXCPT | (vendor == CpuVendor.Intel ? Cr4.VMXE : 0);
        var efer = Efer.LME | Efer.LMA | Efer.NXE | (vendor == CpuVendor.Amd ? Efer.SVME : 0);
        var pml4 = area + Pml4Offset;
        cpu.LoadControlState(HostCr0, pml4, cr4, efer);
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = CodeSelector, Limit = 0xFFFFFFFF, Attributes = 0xA09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            cpu.SetSegment(s, new SegmentRegister { Selector = DataSelector, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.Gdtr = new DescriptorTableRegister { Base = area + GdtOffset, Limit = 0x2F };
        cpu.Idtr = new DescriptorTableRegister { Base = area + IdtOffset, Limit = 0xFFF };
        cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = area + TssOffset, Limit = 0x67, Attributes = 0x8B };
        if (vendor == CpuVendor.Intel) cpu.FeatureControl = 5;
        return new HostState(HostCr0, pml4, cr4, efer, CodeSelector, DataSelector, TssSelector, area + TssOffset, area + GdtOffset, area + IdtOffset, 0, 0);
    }
}
