namespace Sim.Differential.Tests;

/// <summary>
/// Where the guest keeps its tables and variables. Everything lives in one 64 KiB window at
/// <see cref="DataBase"/> so that 16-bit code reaches it through one segment.
/// </summary>
public static class DataLayout
{
    public const uint LoadAddress = 0x100000;
    public const uint StubBSize = 0x800;
    public const uint BlobImageOffset = 0x1000;
    public const uint BlobSize = 0x7000;
    public const uint IvtImageOffset = 0x8000;
    public const uint TableImageOffset = 0x9000;

    public const uint DataBase = 0x20000;
    public const uint Code16Base = 0x30000;

    public const uint Gdt = 0x000;
    public const uint GdtrPointer = 0x0E0;
    public const uint IdtrPointer = 0x0F0;
    public const uint IdtrRealPointer = 0x0D0;
    public const uint Temp = 0x100;

    /// <summary>An m16:32 far pointer the 64-bit code of a compatibility-mode guest jumps through to reach its 32-bit code segment.</summary>
    public const uint FarPointer = 0x110;
    public const uint Record = 0x140;
    public const uint Idt = 0x400;
    /// <summary>The 32-bit TSS of guests with a user mode: SS0:ESP0 for exceptions from CPL 3.</summary>
    public const uint Tss = 0x800;
    public const uint Scratch = 0x1000;
    public const uint ScratchSize = 0x200;
    public const uint CaseStack = Scratch + 0x100;
    public const uint Pristine = 0x1400;
    public const uint HandlerStackTop = 0x3000;
    public const uint Pml4 = 0x4000;
    public const uint Pdpt = 0x5000;
    public const uint Pd = 0x6000;

    /// <summary>Per-case resume addresses (case i's entry holds where case i+1 starts); copied with the blob.</summary>
    public const uint ResumeTable = 0x8000;

    /// <summary>Linear address with no mapping in long mode (the PDPT maps only the first GiB).</summary>
    public const ulong UnmappedLinear = 0x40000000;

    public const ushort Code32Selector = 0x08;
    public const ushort Data32Selector = 0x10;
    public const ushort Code64Selector = 0x18;
    public const ushort Code16Selector = 0x28;
    public const ushort Data16Selector = 0x30;

    /// <summary>Flat 32-bit code and data at DPL 3, and the TSS, in guests with a user mode (selectors without RPL).</summary>
    public const ushort UserCode32Selector = 0x70;
    public const ushort UserData32Selector = 0x78;
    public const ushort TssSelector = 0x80;

    public const int RecordHeaderSlots = 7;

    /// <summary>Address of a data item as the mode's code addresses it.</summary>
    public static uint Address(GuestMode mode, uint offset) => mode.UsesDataSegment() ? offset : DataBase + offset;
}
