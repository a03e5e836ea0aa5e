namespace Sim.Cpu.X87;

/// <summary>FBSTP's packed BCD result, the exceptions detected and C1 ("rounded up").</summary>
public readonly record struct BcdResult(PackedBcd Value, FpuExceptions Exceptions, bool RoundedUp = false)
{
    /// <summary>An unmasked #IA suppresses the store.</summary>
    public bool IsWritten(FpuControlWord cw) => (Exceptions & ~cw.Masks & FpuExceptions.Invalid) == 0;
}
