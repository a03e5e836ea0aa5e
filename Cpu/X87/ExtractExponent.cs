namespace Sim.Cpu.X87;

/// <summary>FXTRACT: splits a value into its true exponent and its significand scaled to [1, 2) (SDM vol. 2A, FXTRACT).</summary>
public static class ExtractExponent
{
    public static ExtractResult Extract(ExtendedReal a)
    {
        if (NaNPropagation.TryPropagate(a, out var propagated))
            return new(propagated.Value, propagated.Value, propagated.Exceptions);
        if (a.IsZero)
            return new(ExtendedReal.NegativeInfinity, a, FpuExceptions.ZeroDivide);
        if (a.IsInfinity)
            return new(ExtendedReal.PositiveInfinity, a, FpuExceptions.None);

        var flags = BasicArithmetic.DenormalOperands(a, a);
        var x = UnpackedReal.From(a);
        var significand = new ExtendedReal(x.Sign, ExtendedReal.ExponentBias, x.Significand);
        return new(IntegerConversion.FromInt64(x.Exponent - ExtendedReal.ExponentBias), significand, flags);
    }
}
