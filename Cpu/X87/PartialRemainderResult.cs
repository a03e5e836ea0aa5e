namespace Sim.Cpu.X87;

/// <summary>
/// FPREM/FPREM1's result: the (partial) remainder, the low three bits of the quotient and whether the reduction is
/// incomplete and must be repeated.
/// </summary>
public readonly record struct PartialRemainderResult(ExtendedReal Value, FpuExceptions Exceptions, int Quotient, bool Incomplete)
{
    /// <summary>C0 = Q2, C3 = Q1, C1 = Q0 and C2 = incomplete.</summary>
    /// <summary>Whether an unmasked #IA or #D stops the instruction, leaving ST(0) and the condition codes alone.</summary>
    public bool StopsInstruction(FpuControlWord cw) => FpuResult.StoppingExceptions(Exceptions, cw) != 0;

    public ConditionCodes ConditionCodes => new((Quotient & 4) != 0, (Quotient & 1) != 0, Incomplete, (Quotient & 2) != 0);
}
