namespace Sim.Microkernels.Kernel;

/// <summary>
/// A guest-physical space as AMD-V nested page tables (APM vol. 2, 15.25): ordinary long-mode
/// four-level page tables walked as user accesses, so U/S is set at every level; R/W from the
/// write right, NX when the page is not executable (honoured because the host runs with
/// EFER.NXE, which <see cref="HostEnvironment"/> sets). <see cref="FourLevelGuestPhysicalSpace.Root"/>
/// is the nested CR3. Every present page is readable. After removing or downgrading mappings
/// the kernel flushes the guest's ASID (VMCB TLB control) before the next VMRUN.
/// </summary>
public sealed class NptSpace(KernelMemory kernelMemory) : FourLevelGuestPhysicalSpace(kernelMemory)
{
    private const ulong Present = 1, Writable = 2, User = 4, PageSize = 0x80, NoExecute = 1UL << 63;

    public override ulong Root => Table;

    protected override bool IsPresent(ulong entry) => (entry & Present) != 0;

    protected override ulong TableEntry(ulong table) => table | Present | Writable | User;

    protected override ulong LeafEntry(ulong hostPhysical, GuestPageRights rights, bool large) =>
        hostPhysical | Present | User
        | ((rights & GuestPageRights.Write) != 0 ? Writable : 0)
        | ((rights & GuestPageRights.Execute) == 0 ? NoExecute : 0)
        | (large ? PageSize : 0);

    protected override GuestPageRights RightsOf(ulong leaf) =>
        GuestPageRights.Read
        | ((leaf & Writable) != 0 ? GuestPageRights.Write : 0)
        | ((leaf & NoExecute) == 0 ? GuestPageRights.Execute : 0);

    protected override void CheckRights(GuestPageRights rights)
    {
        // A present nested entry always permits reads: execute-only or write-only pages do not exist.
        if ((rights & GuestPageRights.Read) == 0 || (rights & ~GuestPageRights.All) != 0)
            throw new ArgumentException($"nested paging cannot map a page with rights {rights}: every present page is readable");
    }
}
