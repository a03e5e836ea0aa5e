namespace Sim.Cpu.Registers;

/// <summary>Bits of IA32_EFER (MSR C000_0080h).</summary>
public static class Efer
{
    public const ulong SCE = 1UL << 0;
    public const ulong LME = 1UL << 8;
    public const ulong LMA = 1UL << 10;
    public const ulong NXE = 1UL << 11;
    public const ulong SVME = 1UL << 12;
    public const ulong FFXSR = 1UL << 14;
}
