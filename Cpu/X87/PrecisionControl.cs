namespace Sim.Cpu.X87;

/// <summary>The PC field of the x87 control word, bits 9:8 (SDM vol. 1, 8.1.5.2).</summary>
public enum PrecisionControl
{
    Single = 0,
    /// <summary>Reserved by the SDM; the hardware rounds to 64 bits as for <see cref="DoubleExtended"/>.</summary>
    Reserved = 1,
    Double = 2,
    DoubleExtended = 3,
}
