namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>The state components XCR0 may enable: x87 (bit 0), SSE (bit 1) and AVX (bit 2).</summary>
    public const ulong SupportedXcr0 = 0b111;

    /// <summary>
    /// XCR0 (XFEATURE_ENABLED_MASK, SDM vol. 1, 13.3): which state components the XSAVE feature set manages and which
    /// instructions may use them. 1 after reset, unchanged by INIT; host software (a kernel model switching guests) sets it
    /// directly, since neither VM entry nor VM exit loads it.
    /// </summary>
    public ulong Xcr0 { get; set; } = 1;

    /// <summary>Whether <paramref name="value"/> is a value XSETBV accepts for XCR0: bit 0 set, AVX only with SSE, no unsupported bit.</summary>
    public static bool IsValidXcr0(ulong value) => (value & 1) != 0 && (value & ~SupportedXcr0) == 0 && (value & 0b110) != 0b100;
}
