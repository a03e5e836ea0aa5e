namespace Sim.Images.Guests;

/// <summary>
/// Where the multiprocessor guest keeps its shared data, below the trampoline page: one 64-byte slot per
/// CPU (in MADT order), the globals, the APIC-ID-to-slot map and the IDT; and the AP stacks, one page per
/// APIC ID, below the EBDA.
/// </summary>
internal static class SmpLayout
{
    public const uint DataArea = 0x4000;
    public const int DataAreaSize = 0x2000;

    public const int MaxCpus = 8;

    public const uint Slots = DataArea;
    public const int SlotShift = 6;

    public const int SlotApicId = 0;
    public const int SlotCheckIn = 4;
    public const int SlotDone = 8;
    public const int SlotSum = 12;
    public const int SlotFixed = 16;
    public const int SlotNmi = 20;
    public const int SlotBroadcast = 24;
    public const int SlotLogical = 28;
    public const int SlotOneShot = 32;
    public const int SlotPeriodic = 36;
    public const int SlotDeadline = 40;
    public const int SlotDeadlineSupported = 44;

    public const uint CpuCount = DataArea + 0x400;
    public const uint StartingIndex = DataArea + 0x404;
    public const uint BspIndex = DataArea + 0x408;
    public const uint PitCount = DataArea + 0x40C;
    public const uint RtcCount = DataArea + 0x410;
    public const uint Com1Count = DataArea + 0x414;
    public const uint Unexpected = DataArea + 0x418;
    public const uint Idtr = DataArea + 0x420;

    /// <summary>The slot index of each APIC ID, FFh for IDs the MADT does not list.</summary>
    public const uint IdToIndex = DataArea + 0x500;

    public const uint Idt = DataArea + 0x1000;

    /// <summary>AP stacks: the top of APIC ID n's is <see cref="ApStacks"/> + (n + 1) pages.</summary>
    public const uint ApStacks = 0x90000;
}
