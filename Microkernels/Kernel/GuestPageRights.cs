namespace Sim.Microkernels.Kernel;

/// <summary>What a guest may do with a page of guest-physical memory: NOVA's memory-CRD rights, EPT's R/W/X bits.</summary>
[Flags]
public enum GuestPageRights : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    All = Read | Write | Execute,
}
