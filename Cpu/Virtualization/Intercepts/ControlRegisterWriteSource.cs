namespace Sim.Cpu.Virtualization;

/// <summary>The instruction that writes a control register: MOV to CR, LMSW (CR0 bits 3:0) or CLTS (CR0.TS).</summary>
public enum ControlRegisterWriteSource : byte
{
    MovToCr,
    Lmsw,
    Clts,
}
