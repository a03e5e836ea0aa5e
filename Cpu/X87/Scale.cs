namespace Sim.Cpu.X87;

/// <summary>FSCALE: a × 2^trunc(b), rounded only when the result leaves the exponent range (SDM vol. 2A, FSCALE).</summary>
public static class Scale
{
    /// <summary>Scale factors beyond this magnitude give the same overflow or underflow as this one does.</summary>
    private const int ScaleLimit = 0x10000;

    public static FpuResult Apply(ExtendedReal a, ExtendedReal b, FpuControlWord cw)
    {
        if (NaNPropagation.TryPropagate(a, b, out var propagated))
            return propagated;
        var flags = BasicArithmetic.DenormalOperands(a, b);
        if (b.IsInfinity)
        {
            if (b.Sign)
                return a.IsInfinity ? FpuResult.Invalid : new(BasicArithmetic.Zero(a.Sign), flags);
            return a.IsZero ? FpuResult.Invalid : new(BasicArithmetic.Infinity(a.Sign), flags);
        }
        if (a.IsZero || a.IsInfinity)
            return new(a, flags);

        var x = UnpackedReal.From(a);
        var exponent = x.Exponent + TruncatedScale(b);
        return Rounding.ToExtended(x.Sign, exponent, (UInt128)x.Significand << 64, 64, cw, flags);
    }

    private static int TruncatedScale(ExtendedReal b)
    {
        if (b.IsZero)
            return 0;
        var y = UnpackedReal.From(b);
        var unbiased = y.Exponent - ExtendedReal.ExponentBias;
        if (unbiased < 0)
            return 0;
        var magnitude = unbiased >= 17 ? ScaleLimit : (int)Math.Min(ScaleLimit, (long)(y.Significand >> (63 - unbiased)));
        return y.Sign ? -magnitude : magnitude;
    }
}
