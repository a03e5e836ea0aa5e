namespace Sim.Cpu.X87;

/// <summary>
/// A value converted for a memory destination (binary32, binary64 or a two's-complement integer), as the raw bits the
/// store writes, with the exceptions detected and C1 ("rounded up").
/// </summary>
public readonly record struct ConversionResult(ulong Bits, FpuExceptions Exceptions, bool RoundedUp = false)
{
    /// <summary>An unmasked #IA, #O or #U suppresses the store: memory keeps its contents (SDM vol. 1, 4.9.1.4–4.9.1.5).</summary>
    public bool IsWritten(FpuControlWord cw) => (Exceptions & ~cw.Masks & StoreSuppressing) == 0;

    internal const FpuExceptions StoreSuppressing = FpuExceptions.Invalid | FpuExceptions.Overflow | FpuExceptions.Underflow;

    /// <summary>The exceptions a store reports: an unmasked overflow or underflow alone, as it stops the store before #P.</summary>
    internal static ConversionResult ForStore(ulong bits, FpuExceptions exceptions, bool roundedUp, FpuControlWord cw)
    {
        var unmasked = exceptions & ~cw.Masks & (FpuExceptions.Overflow | FpuExceptions.Underflow);
        return unmasked != 0 ? new(bits, unmasked) : new(bits, exceptions, roundedUp);
    }
}
