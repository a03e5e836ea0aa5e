namespace Sim.Cpu.X87;

/// <summary>The x87 FPU control word (SDM vol. 1, 8.1.5).</summary>
public readonly struct FpuControlWord(ushort value)
{
    /// <summary>The value FINIT loads: every exception masked, 64-bit precision, round to nearest.</summary>
    public static FpuControlWord Default => new(0x037F);

    public ushort Value { get; } = value;

    public FpuExceptions Masks => (FpuExceptions)(Value & (ushort)FpuExceptions.All);

    public PrecisionControl PrecisionControl => (PrecisionControl)((Value >> 8) & 3);

    public RoundingControl RoundingControl => (RoundingControl)((Value >> 10) & 3);

    /// <summary>Significand bits the basic arithmetic rounds to; the reserved setting behaves as 64.</summary>
    public int PrecisionBits => PrecisionControl switch
    {
        PrecisionControl.Single => 24,
        PrecisionControl.Double => 53,
        _ => 64,
    };

    public bool IsMasked(FpuExceptions exception) => (Masks & exception) == exception;

    public static FpuControlWord Create(RoundingControl rc, PrecisionControl pc = PrecisionControl.DoubleExtended, FpuExceptions masks = FpuExceptions.All) =>
        new((ushort)(0x40 | (int)masks | ((int)pc << 8) | ((int)rc << 10)));
}
