namespace Sim.Cpu.X87;

/// <summary>
/// A value converted for a memory destination (binary32, binary64 or a two's-complement integer), as the raw bits the
/// store writes, with the exceptions detected and C1 ("rounded up").
/// </summary>
public readonly record struct ConversionResult(ulong Bits, FpuExceptions Exceptions, bool RoundedUp = false);
