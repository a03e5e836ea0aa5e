namespace Sim.Cpu;

/// <summary>The arithmetic operation whose result the lazy status flags are derived from.</summary>
internal enum FlagOp : byte
{
    Add,
    Adc,
    Sub,
    Sbb,
    Logic,
    Inc,
    Dec,
    Neg,
    Shl,
    Shr,
    Sar,
}
