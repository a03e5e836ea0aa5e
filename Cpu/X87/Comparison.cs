namespace Sim.Cpu.X87;

/// <summary>FCOM (ordered: any NaN is invalid) and FUCOM (unordered: only an SNaN is), SDM vol. 1, 8.3.6.</summary>
public static class Comparison
{
    /// <summary>Compares a (ST(0)) with b, as FCOM, FCOMI, FICOM and FTST do.</summary>
    public static ComparisonResult Compare(ExtendedReal a, ExtendedReal b) => CompareCore(a, b, ordered: true);

    /// <summary>Compares a (ST(0)) with b, as FUCOM and FUCOMI do.</summary>
    public static ComparisonResult CompareUnordered(ExtendedReal a, ExtendedReal b) => CompareCore(a, b, ordered: false);

    private static ComparisonResult CompareCore(ExtendedReal a, ExtendedReal b, bool ordered)
    {
        if (a.IsUnsupported || b.IsUnsupported)
            return new(ComparisonRelation.Unordered, FpuExceptions.Invalid);
        if (a.IsNaN || b.IsNaN)
        {
            var invalid = ordered || a.IsSignalingNaN || b.IsSignalingNaN;
            return new(ComparisonRelation.Unordered, invalid ? FpuExceptions.Invalid : FpuExceptions.None);
        }
        var flags = BasicArithmetic.DenormalOperands(a, b);
        var order = Order(a, b);
        var relation = order < 0 ? ComparisonRelation.Less : order > 0 ? ComparisonRelation.Greater : ComparisonRelation.Equal;
        return new(relation, flags);
    }

    /// <summary>The sign of a − b for operands that are neither NaN nor unsupported.</summary>
    internal static int Order(ExtendedReal a, ExtendedReal b)
    {
        if (a.IsZero && b.IsZero)
            return 0;
        if (a.Sign != b.Sign)
            return a.Sign ? -1 : 1;
        var magnitude = CompareMagnitude(a, b);
        return a.Sign ? -magnitude : magnitude;
    }

    private static int CompareMagnitude(ExtendedReal a, ExtendedReal b)
    {
        if (a.IsInfinity || b.IsInfinity)
            return a.IsInfinity == b.IsInfinity ? 0 : a.IsInfinity ? 1 : -1;
        if (a.IsZero || b.IsZero)
            return a.IsZero == b.IsZero ? 0 : a.IsZero ? -1 : 1;
        var x = UnpackedReal.From(a);
        var y = UnpackedReal.From(b);
        if (x.Exponent != y.Exponent)
            return x.Exponent < y.Exponent ? -1 : 1;
        return x.Significand.CompareTo(y.Significand);
    }
}
