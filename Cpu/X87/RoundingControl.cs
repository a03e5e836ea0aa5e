namespace Sim.Cpu.X87;

/// <summary>The RC field of the x87 control word, bits 11:10 (SDM vol. 1, 4.8.4).</summary>
public enum RoundingControl
{
    Nearest = 0,
    Down = 1,
    Up = 2,
    TowardZero = 3,
}
