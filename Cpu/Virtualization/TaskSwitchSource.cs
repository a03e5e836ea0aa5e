namespace Sim.Cpu.Virtualization;

/// <summary>What started a task switch; it decides the busy flags, NT and the back link (SDM vol. 3, table 7-2).</summary>
public enum TaskSwitchSource : byte
{
    Call,
    Jump,
    Iret,
    Gate,
}
