namespace Sim.Microkernels.Kernel;

/// <summary>
/// A VM's guest-physical address space as the hardware walks it: real EPT (VT-x) or nested page
/// tables (AMD-V) in simulated physical memory, built from the mappings a kernel model grants.
/// </summary>
public interface IGuestPhysicalSpace
{
    /// <summary>The root the unit is given: an EPTP (memory type, walk length) or the nested CR3.</summary>
    ulong Root { get; }

    /// <summary>Maps <paramref name="size"/> bytes (a multiple of 4 KiB, both addresses 4 KiB aligned) of host-physical memory at <paramref name="guestPhysical"/>.</summary>
    void Map(ulong guestPhysical, ulong hostPhysical, ulong size, GuestPageRights rights);

    /// <summary>Removes the mappings in the range; pages not mapped are skipped.</summary>
    void Unmap(ulong guestPhysical, ulong size);

    /// <summary>The host-physical address and rights that <paramref name="guestPhysical"/> maps to, or null.</summary>
    (ulong HostPhysical, GuestPageRights Rights)? Lookup(ulong guestPhysical);
}
