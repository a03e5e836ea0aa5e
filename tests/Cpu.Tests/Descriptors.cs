namespace Sim.Cpu.Tests;

/// <summary>Builds descriptor-table entries in the layouts of SDM vol. 3, 3.4.5 (segments) and 6.11/6.14.1 (gates).</summary>
internal static class Descriptors
{
    /// <summary>A code, data or system segment descriptor; <paramref name="access"/> is byte 5 (P, DPL, S, type), <paramref name="flags"/> the G/D/L/AVL nibble.</summary>
    public static ulong Segment(uint baseAddress, uint limit, byte access, byte flags) =>
        (limit & 0xFFFFUL)
        | ((ulong)(baseAddress & 0xFFFFFF) << 16)
        | ((ulong)access << 40)
        | ((ulong)((limit >> 16) & 0xF) << 48)
        | ((ulong)(flags & 0xF) << 52)
        | ((ulong)(baseAddress >> 24) << 56);

    public const ulong Code32 = 0x00CF9B000000FFFFUL;
    public const ulong Data32 = 0x00CF93000000FFFFUL;
    public const ulong UserCode32 = 0x00CFFB000000FFFFUL;
    public const ulong UserData32 = 0x00CFF3000000FFFFUL;
    public const ulong Code64 = 0x00AF9B000000FFFFUL;
    public const ulong UserCode64 = 0x00AFFB000000FFFFUL;

    /// <summary>A 32-bit protected-mode gate (call, interrupt, trap or task gate).</summary>
    public static ulong Gate(int type, ushort selector, uint offset, int dpl, int parameterCount = 0, bool present = true) =>
        (offset & 0xFFFFUL)
        | ((ulong)selector << 16)
        | ((ulong)(parameterCount & 0x1F) << 32)
        | ((ulong)type << 40)
        | ((ulong)dpl << 45)
        | (present ? 1UL << 47 : 0)
        | ((ulong)(offset >> 16) << 48);

    /// <summary>The low quadword of a 16-byte long-mode gate; the high quadword holds offset bits 63:32.</summary>
    public static ulong Gate64Low(int type, ushort selector, ulong offset, int dpl, int ist = 0, bool present = true) =>
        Gate(type, selector, (uint)offset, dpl, present: present) | ((ulong)(ist & 7) << 32);

    public const int TaskGate = 0x5;
    public const int InterruptGate32 = 0xE;
    public const int TrapGate32 = 0xF;
    public const int CallGate32 = 0xC;
    public const int AvailableTss32 = 0x9;
    public const int BusyTss32 = 0xB;
}
