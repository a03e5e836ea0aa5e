namespace Sim.Vmm.Genode;

/// <summary>
/// Genode core's kernel-independent VM session component: attach and detach with the rules of
/// <see cref="GuestRegionMap"/>, followed by the kernel-specific hooks a kernel model's session implements.
/// </summary>
public abstract class VmSessionComponent : IVmSession
{
    /// <summary>The session's guest-physical bookkeeping.</summary>
    protected GuestRegionMap Regions { get; } = new();

    public AttachResult Attach(IRamDataspace? dataspace, ulong guestPhys, AttachAttr attr)
    {
        var result = Regions.Attach(dataspace, guestPhys, attr, out var effective);
        return result == AttachResult.Ok ? AttachVmMemory(dataspace!, guestPhys, effective) : result;
    }

    public void Detach(ulong guestPhys, ulong size)
    {
        if (Regions.Detach(ref guestPhys, ref size))
            DetachVmMemory(guestPhys, size);
    }

    /// <summary>
    /// Maps <c>attr.Size</c> bytes of the dataspace from <c>attr.Offset</c> at <paramref name="guestPhys"/>
    /// into the VM's EPT/NPT (everything 4 KiB aligned; <c>attr.Writeable</c> already combines the
    /// dataspace's and the request's rights). Called again for a re-attach of the same region.
    /// </summary>
    protected abstract AttachResult AttachVmMemory(IRamDataspace dataspace, ulong guestPhys, AttachAttr attr);

    /// <summary>Unmaps the page-aligned range from the VM; pages not mapped are skipped.</summary>
    protected abstract void DetachVmMemory(ulong guestPhys, ulong size);

    public abstract void Dispose();
}
