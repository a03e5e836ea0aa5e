namespace Sim.Vmm.Genode;

/// <summary>
/// A VM session as both API generations share it: the guest-physical address space. Kernel models
/// derive from <see cref="VmSessionComponent"/>, which implements these rules once. Dispose closes the
/// session: every vCPU is destroyed, guest memory unmapped.
/// </summary>
public interface IVmSession : IDisposable
{
    /// <summary>Maps (part of) a RAM dataspace at <paramref name="guestPhys"/> (rules of §1.2 of the ABI notes).</summary>
    AttachResult Attach(IRamDataspace? dataspace, ulong guestPhys, AttachAttr attr);

    /// <summary>Unmaps a guest-physical range (page-aligned as Genode 19.05 core does).</summary>
    void Detach(ulong guestPhys, ulong size);
}
