namespace Sim.Cpu.X87;

/// <summary>
/// The outcome of an x87 operation on extended reals: the value the masked (or, for OE and UE, the unmasked) response
/// delivers, the exceptions detected, and C1, which the status word sets when the result was rounded up in magnitude.
/// </summary>
public readonly record struct FpuResult(ExtendedReal Value, FpuExceptions Exceptions, bool RoundedUp = false)
{
    public static FpuResult Invalid => new(ExtendedReal.RealIndefinite, FpuExceptions.Invalid);
}
