namespace Sim.Cpu;

/// <summary>The processor's activity state, named as the VMCS guest activity-state field names them.</summary>
public enum ActivityState : byte
{
    Active = 0,
    Hlt = 1,
    Shutdown = 2,
    WaitForSipi = 3,
}
