namespace Sim.Fuzz;

/// <summary>Where the generated guests put things in guest-physical memory (all below 4 MiB).</summary>
public static class FuzzLayout
{
    public const ulong DefaultMemory = 32UL << 20;

    public const ulong Ivt = 0x0000;
    public const ulong Gdt = 0x1000;
    public const int GdtEntries = 32;
    public const ulong Gdtr = 0x1100;
    public const ulong Idtr = 0x1110;
    public const ulong HostIdtr = 0x1120;

    /// <summary>Handler entries, incremented by each handler.</summary>
    public const ulong Counter = 0x1200;

    /// <summary>Where a handler resumes the random code: <see cref="ResumePoints"/> 64-bit addresses, picked by the counter.</summary>
    public const ulong ResumeTable = 0x1400;
    public const int ResumePoints = 64;

    public const ulong Idt = 0x2000;
    public const ulong Tss = 0x3000;
    public const int TssIoBitmapOffset = 0x68;
    public const ulong HostIdt = 0x6000;

    public const ulong Handler64 = 0x8000;
    public const ulong Handler32 = 0x8400;
    public const ulong Handler16 = 0x8800;
    public const ulong HostFaultHandler = 0x8C00;
    public const ulong Prolog = 0x9000;

    /// <summary>The random code; one 64 KiB real-mode segment.</summary>
    public const ulong Code = 0x10000;
    public const ushort CodeSegment = 0x1000;
    public const ulong Data = 0x20000;
    public const ulong Tables = 0x30000;

    public const ulong UserStack = 0x60000;
    public const ulong HostStack = 0x68000;
    public const ulong KernelStack = 0x70000;
    public const ushort RealModeStack = 0x7000;

    public const ulong PageTables = 0x100000;
    public const ulong VirtualizationArea = 0x200000;
    public const ulong NestedTables = 0x300000;

    public const ushort Code32 = 0x08, Data32 = 0x10, Code64 = 0x18, Code16 = 0x20, Data16 = 0x28;
    public const ushort UserCode32 = 0x33, UserData = 0x3B, UserCode64 = 0x43, UserCode16 = 0x4B, TssSelector = 0x50;

    /// <summary>GDT entries from here on are random descriptors for the random code's segment loads.</summary>
    public const int FirstRandomDescriptor = 12;
}
