namespace Sim.Vmm.Genode;

/// <summary>The outcome of an attach: success or the exception Genode's VM session would throw.</summary>
public enum AttachResult
{
    Ok,
    InvalidDataspace,
    RegionConflict,
    OutOfRam,
    OutOfCaps,
}
