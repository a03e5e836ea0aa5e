namespace Sim.Cpu.X87;

/// <summary>The condition code flags C0–C3 of the status word (SDM vol. 1, 8.1.3.1).</summary>
public readonly record struct ConditionCodes(bool C0, bool C1, bool C2, bool C3)
{
    public const ushort Mask = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 14);

    /// <summary>The flags at their status-word positions: C0 bit 8, C1 bit 9, C2 bit 10, C3 bit 14.</summary>
    public ushort StatusWordBits => (ushort)((C0 ? 1 << 8 : 0) | (C1 ? 1 << 9 : 0) | (C2 ? 1 << 10 : 0) | (C3 ? 1 << 14 : 0));
}
