namespace Sim.Fuzz;

/// <summary>Segment descriptors and gates in their architectural layout (SDM vol. 3, 3.4.5 and 6.11).</summary>
public static class Descriptors
{
    /// <summary>A segment descriptor; <paramref name="access"/> is P, DPL, S and type; <paramref name="flags"/> is G, D/B, L and AVL.</summary>
    public static ulong Segment(ulong @base, uint limit, byte access, byte flags) =>
        (limit & 0xFFFFUL) | ((@base & 0xFF_FFFFUL) << 16) | ((ulong)access << 40)
        | (((ulong)limit >> 16 & 0xF) << 48) | ((ulong)(flags & 0xF) << 52) | ((@base >> 24 & 0xFF) << 56);

    /// <summary>A 32-bit-layout gate (also the low quadword of a 64-bit gate).</summary>
    public static ulong Gate(ushort selector, ulong offset, int type, int dpl, int ist = 0) =>
        (offset & 0xFFFF) | ((ulong)selector << 16) | ((ulong)(ist & 7) << 32)
        | ((ulong)(0x80 | (dpl << 5) | type) << 40) | ((offset >> 16 & 0xFFFF) << 48);

    public static readonly ulong FlatCode32 = Segment(0, 0xFFFFF, 0x9B, 0xC);
    public static readonly ulong FlatData = Segment(0, 0xFFFFF, 0x93, 0xC);
    public static readonly ulong FlatCode64 = Segment(0, 0xFFFFF, 0x9B, 0xA);
    public static readonly ulong Code16 = Segment(FuzzLayout.Code, 0xFFFF, 0x9B, 0);
    public static readonly ulong Data16 = Segment(FuzzLayout.Data, 0xFFFF, 0x93, 0);
    public static readonly ulong UserCode32 = Segment(0, 0xFFFFF, 0xFB, 0xC);
    public static readonly ulong UserData = Segment(0, 0xFFFFF, 0xF3, 0xC);
    public static readonly ulong UserCode64 = Segment(0, 0xFFFFF, 0xFB, 0xA);
    public static readonly ulong UserCode16 = Segment(FuzzLayout.Code, 0xFFFF, 0xFB, 0);
}
