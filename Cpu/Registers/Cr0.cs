namespace Sim.Cpu.Registers;

/// <summary>Bits of CR0 (SDM vol. 3, 2.5).</summary>
public static class Cr0
{
    public const ulong PE = 1UL << 0;
    public const ulong MP = 1UL << 1;
    public const ulong EM = 1UL << 2;
    public const ulong TS = 1UL << 3;
    public const ulong ET = 1UL << 4;
    public const ulong NE = 1UL << 5;
    public const ulong WP = 1UL << 16;
    public const ulong AM = 1UL << 18;
    public const ulong NW = 1UL << 29;
    public const ulong CD = 1UL << 30;
    public const ulong PG = 1UL << 31;

    public const ulong Defined = PE | MP | EM | TS | ET | NE | WP | AM | NW | CD | PG;
}
