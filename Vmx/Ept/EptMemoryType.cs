namespace Sim.Vmx.Ept;

/// <summary>The EPT memory types of the EPTP and of leaf entries (SDM vol. 3, 29.3.7; values 2, 3 and 7 are reserved).</summary>
public enum EptMemoryType : byte
{
    Uncacheable = 0,
    WriteCombining = 1,
    WriteThrough = 4,
    WriteProtected = 5,
    WriteBack = 6,
}
