namespace Sim.Cpu.X87;

/// <summary>
/// The masked responses to NaN and unsupported operands (SDM vol. 1, 4.8.3.5, 8.2.2 and table 4-7): an unsupported
/// encoding or an SNaN raises #IA, an unsupported encoding yields the real indefinite, and of two NaNs the one with the
/// larger significand wins over one of its own kind and a QNaN over an SNaN; the NaN delivered is quiet.
/// </summary>
internal static class NaNPropagation
{
    public static bool TryPropagate(ExtendedReal a, ExtendedReal b, out FpuResult result)
    {
        // The common case first: two finite operands of supported encodings.
        if (a.Exponent != ExtendedReal.MaxExponent && b.Exponent != ExtendedReal.MaxExponent && !a.IsUnsupported && !b.IsUnsupported)
        {
            result = default;
            return false;
        }
        if (a.IsUnsupported || b.IsUnsupported)
        {
            result = FpuResult.Invalid;
            return true;
        }
        var aNaN = a.IsNaN;
        var bNaN = b.IsNaN;
        if (!aNaN && !bNaN)
        {
            result = default;
            return false;
        }
        var flags = a.IsSignalingNaN || b.IsSignalingNaN ? FpuExceptions.Invalid : FpuExceptions.None;
        result = new(Choose(a, b, aNaN, bNaN).Quieted(), flags);
        return true;
    }

    public static bool TryPropagate(ExtendedReal a, out FpuResult result)
    {
        if (a.IsUnsupported)
        {
            result = FpuResult.Invalid;
            return true;
        }
        if (!a.IsNaN)
        {
            result = default;
            return false;
        }
        result = new(a.Quieted(), a.IsSignalingNaN ? FpuExceptions.Invalid : FpuExceptions.None);
        return true;
    }

    private static ExtendedReal Choose(ExtendedReal a, ExtendedReal b, bool aNaN, bool bNaN)
    {
        if (!bNaN)
            return a;
        if (!aNaN)
            return b;
        // An SNaN and a QNaN give the QNaN; two of the same kind give the larger significand.
        var aSignaling = a.IsSignalingNaN;
        if (aSignaling != b.IsSignalingNaN)
            return aSignaling ? b : a;
        if (a.Significand != b.Significand)
            return a.Significand > b.Significand ? a : b;
        return a.SignExponent <= b.SignExponent ? a : b;
    }
}
