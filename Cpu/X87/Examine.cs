namespace Sim.Cpu.X87;

/// <summary>FXAM's classification of a register value (SDM vol. 2A, FXAM); an empty register is the caller's to report.</summary>
public static class Examine
{
    /// <summary>C3, C2, C0 give the class and C1 the sign.</summary>
    public static ConditionCodes Classify(ExtendedReal value)
    {
        var sign = value.Sign;
        return value.Class switch
        {
            ExtendedRealClass.QuietNaN or ExtendedRealClass.SignalingNaN => new(true, sign, false, false),
            ExtendedRealClass.Normal => new(false, sign, true, false),
            ExtendedRealClass.Infinity => new(true, sign, true, false),
            ExtendedRealClass.Zero => new(false, sign, false, true),
            ExtendedRealClass.Denormal or ExtendedRealClass.PseudoDenormal => new(false, sign, true, true),
            _ => new(false, sign, false, false),
        };
    }

    /// <summary>The codes FXAM reports for an empty register: C3 and C0 set, C1 the sign of whatever the register holds.</summary>
    public static ConditionCodes Empty(bool sign) => new(true, sign, false, true);
}
