using System.Runtime.CompilerServices;

namespace Sim.Cpu.Registers;

/// <summary>Index of a segment register, in the order of the SDM's Sreg encoding.</summary>
public enum SegmentIndex : byte
{
    ES = 0,
    CS = 1,
    SS = 2,
    DS = 3,
    FS = 4,
    GS = 5,
}

/// <summary>
/// A segment register with its hidden part (descriptor cache). <see cref="Attributes"/> holds the
/// descriptor's bits 40–55 in the layout of the VMCS access-rights field: type (0–3), S (4),
/// DPL (5–6), P (7), AVL (12), L (13), D/B (14), G (15), and bit 16 "unusable" for a segment
/// register loaded with a null selector in protected mode.
/// </summary>
public struct SegmentRegister
{
    public ushort Selector;
    public ulong Base;
    public uint Limit;
    public uint Attributes;

    public const uint UnusableBit = 0x10000;

    public readonly bool Unusable => (Attributes & UnusableBit) != 0;
    public readonly int Type => (int)(Attributes & 0xF);
    public readonly bool IsSystem => (Attributes & 0x10) == 0;
    public readonly int Dpl => (int)(Attributes >> 5) & 3;
    public readonly bool Present => (Attributes & 0x80) != 0;
    public readonly bool Long => (Attributes & 0x2000) != 0;
    public readonly bool DefaultBig => (Attributes & 0x4000) != 0;
    public readonly bool Granularity => (Attributes & 0x8000) != 0;
    // The JIT leaves these two out of the large delivery and segment-loading methods unless told.
    public readonly bool IsCode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Attributes & 0x18) == 0x18;
    }

    public readonly bool IsExpandDown
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (Attributes & 0x1C) == 0x14;
    }

    public override readonly string ToString() =>
        $"sel={Selector:x4} base={Base:x} limit={Limit:x} attr={Attributes:x5}";
}
