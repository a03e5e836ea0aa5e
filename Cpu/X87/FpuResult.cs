namespace Sim.Cpu.X87;

/// <summary>
/// The outcome of an x87 operation on extended reals: the value the masked (or, for OE and UE, the unmasked) response
/// delivers, the exceptions detected, and C1, which the status word sets when the result was rounded up in magnitude.
/// </summary>
public readonly record struct FpuResult(ExtendedReal Value, FpuExceptions Exceptions, bool RoundedUp = false)
{
    public static FpuResult Invalid => new(ExtendedReal.RealIndefinite, FpuExceptions.Invalid);

    /// <summary>
    /// What the instruction leaves in a register destination under the control word: an unmasked #IA, #Z or #D stops it
    /// before the result is written, so the destination keeps its value and only that exception is reported (SDM vol. 1,
    /// 4.9.1.1–4.9.1.3 and 8.5). Unmasked #O, #U and #P results are already in this result.
    /// </summary>
    public FpuResult DeliveredTo(ExtendedReal destination, FpuControlWord cw)
    {
        var stopping = StoppingExceptions(Exceptions, cw);
        return stopping == 0 ? this : new(destination, stopping);
    }

    /// <summary>Whether an unmasked #IA, #Z or #D stops the instruction, leaving its destination and condition codes alone.</summary>
    public bool StopsInstruction(FpuControlWord cw) => StoppingExceptions(Exceptions, cw) != 0;

    internal static FpuExceptions StoppingExceptions(FpuExceptions exceptions, FpuControlWord cw) =>
        exceptions & ~cw.Masks & (FpuExceptions.Invalid | FpuExceptions.ZeroDivide | FpuExceptions.Denormal);
}
