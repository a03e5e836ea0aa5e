using Sim.Vmx.Ept;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// A guest-physical space as EPT paging structures (SDM vol. 3, 29.3): four levels, R/W/X in
/// bits 2:0 from <see cref="GuestPageRights"/>, memory type write-back in bits 5:3 of every leaf,
/// and an EPTP with memory type WB and walk length 4. After removing or downgrading mappings the
/// kernel invalidates with INVEPT (see <see cref="FourLevelGuestPhysicalSpace"/>).
/// </summary>
public sealed class EptSpace(KernelMemory kernelMemory) : FourLevelGuestPhysicalSpace(kernelMemory)
{
    private const ulong ReadBit = 1, WriteBit = 2, ExecuteBit = 4, LargeBit = 1UL << 7;

    /// <summary>The EPTP: bits 2:0 memory type of the structures, bits 5:3 walk length minus one (SDM vol. 3, 25.6.11).</summary>
    public override ulong Root => Table | (ulong)EptMemoryType.WriteBack | (3UL << 3);

    protected override bool IsPresent(ulong entry) => (entry & 7) != 0;

    protected override ulong TableEntry(ulong table) => table | ReadBit | WriteBit | ExecuteBit;

    protected override ulong LeafEntry(ulong hostPhysical, GuestPageRights rights, bool large) =>
        hostPhysical | (ulong)(rights & GuestPageRights.All) | ((ulong)EptMemoryType.WriteBack << 3) | (large ? LargeBit : 0);

    protected override GuestPageRights RightsOf(ulong leaf) => (GuestPageRights)(leaf & 7);

    protected override void CheckRights(GuestPageRights rights)
    {
        if ((rights & GuestPageRights.All) == GuestPageRights.None || (rights & ~GuestPageRights.All) != 0)
            throw new ArgumentException($"rights {rights} grant nothing a mapping can hold");
        // Write without read is an EPT misconfiguration (SDM vol. 3, 29.3.3.1).
        if ((rights & (GuestPageRights.Read | GuestPageRights.Write)) == GuestPageRights.Write)
            throw new ArgumentException("EPT cannot map a page writable but not readable");
        if (rights == GuestPageRights.Execute && (EptVpidCapability.Value & EptVpidCapability.ExecuteOnly) == 0)
            throw new ArgumentException("this processor's EPT has no execute-only pages");
    }
}
