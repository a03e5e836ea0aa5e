namespace Sim.Cpu.X87;

/// <summary>FXTRACT's two results: the exponent goes to ST(1) and the significand, pushed after it, to ST(0).</summary>
public readonly record struct ExtractResult(ExtendedReal Exponent, ExtendedReal Significand, FpuExceptions Exceptions);
