namespace Sim.Cpu.X87;

/// <summary>The floating-point exception flags, at the bit positions they have in the status word and (as masks) in the control word (SDM vol. 1, 8.1.3.4).</summary>
[Flags]
public enum FpuExceptions : ushort
{
    None = 0,
    Invalid = 1 << 0,
    Denormal = 1 << 1,
    ZeroDivide = 1 << 2,
    Overflow = 1 << 3,
    Underflow = 1 << 4,
    Precision = 1 << 5,
    All = Invalid | Denormal | ZeroDivide | Overflow | Underflow | Precision,
}
