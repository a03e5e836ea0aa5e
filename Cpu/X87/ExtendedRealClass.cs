namespace Sim.Cpu.X87;

/// <summary>The encodings of the double extended-precision format (SDM vol. 1, 4.2.2 and table 8-3).</summary>
public enum ExtendedRealClass
{
    Zero,
    Denormal,
    /// <summary>Biased exponent 0 with the integer bit set; the processor accepts it as an operand and treats it as a denormal.</summary>
    PseudoDenormal,
    Normal,
    Infinity,
    QuietNaN,
    SignalingNaN,
    /// <summary>Biased exponent 7FFFh with the integer bit clear and a nonzero fraction; unsupported since the 387.</summary>
    PseudoNaN,
    /// <summary>Biased exponent 7FFFh with the integer bit and the fraction clear; unsupported since the 387.</summary>
    PseudoInfinity,
    /// <summary>Biased exponent 1..7FFEh with the integer bit clear; unsupported since the 387.</summary>
    Unnormal,
}
