namespace Sim.Vmx;

/// <summary>The width of a VMCS field, bits 14:13 of its encoding (SDM vol. 3, 25.11.2).</summary>
public enum VmcsFieldWidth : byte
{
    Bits16 = 0,
    Bits64 = 1,
    Bits32 = 2,
    Natural = 3,
}
