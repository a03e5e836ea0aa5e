namespace Sim.Vmm.Genode;

/// <summary>
/// The kernel-independent bookkeeping of a VM session's guest-physical space (Genode 19.05 core,
/// <c>vm_session_common.cc</c>), shared by every kernel model's session: attach validates and records a
/// region, detach page-aligns and drops it; the kernel-specific mapping follows each call.
/// The managed space is <c>[0, 2^64 - 0x1000)</c> plus the last page, added as two separate ranges
/// (a size of 2^64 cannot be expressed), so a region lies within one of them.
/// </summary>
public sealed class GuestRegionMap
{
    public const ulong PageSize = 0x1000;

    private const ulong PageMask = PageSize - 1;

    private const ulong LastPage = 0xffff_ffff_ffff_f000;

    private readonly List<GuestRegion> _regions = [];

    /// <summary>The attached regions in ascending guest-physical order.</summary>
    public IReadOnlyList<GuestRegion> Regions => _regions;

    /// <summary>
    /// Checks and records an attachment. On <see cref="AttachResult.Ok"/>, <paramref name="effective"/>
    /// holds what the kernel must map: the offset, the size after the size-0 rule and clamping, and the
    /// rights (writeable only if the dataspace and the request both are). Re-attaching the same dataspace
    /// at an address inside a region it already backs succeeds without new bookkeeping, as in Genode.
    /// </summary>
    public AttachResult Attach(IRamDataspace? dataspace, ulong guestPhys, AttachAttr attr, out AttachAttr effective)
    {
        effective = default;
        if (dataspace is null || !dataspace.Cap.IsValid || dataspace.Managed)
            return AttachResult.InvalidDataspace;
        if (((guestPhys | attr.Offset | attr.Size) & PageMask) != 0)
            return AttachResult.InvalidDataspace;

        ulong dsSize = dataspace.Size;
        ulong size = attr.Size;
        if (size == 0)
        {
            size = dsSize;
            if (attr.Offset < size)
                size -= attr.Offset;
        }
        if (size > dsSize)
            size = dsSize;
        if (attr.Offset >= dsSize || attr.Offset > dsSize - size)
            return AttachResult.InvalidDataspace;

        bool writeable = dataspace.Writeable && attr.Writeable;
        effective = new AttachAttr(attr.Offset, size, attr.Executable, writeable);

        int index = LowerBound(guestPhys);
        if (InManagedRange(guestPhys, size) && !Overlaps(index, guestPhys, size))
        {
            _regions.Insert(index, new GuestRegion(guestPhys, size, dataspace, attr.Offset, writeable, attr.Executable));
            return AttachResult.Ok;
        }

        var region = Find(guestPhys);
        if (region is null || region.Dataspace.Cap != dataspace.Cap)
        {
            effective = default;
            return AttachResult.RegionConflict;
        }
        return AttachResult.Ok;
    }

    /// <summary>
    /// Genode 19.05's detach: an unaligned start moves down to its page and the size grows by the page's
    /// remainder (<c>0x1000 - offset</c>, exactly as core computes it), the size rounds up to pages; a
    /// region that starts at the address and fits in the size is dropped. Returns false for an empty
    /// range; otherwise the kernel unmaps <paramref name="guestPhys"/>/<paramref name="size"/> as adjusted.
    /// </summary>
    public bool Detach(ref ulong guestPhys, ref ulong size)
    {
        if ((guestPhys & PageMask) != 0)
        {
            size += PageSize - (guestPhys & PageMask);
            guestPhys &= ~PageMask;
        }
        if ((size & PageMask) != 0)
            size = (size + PageMask) & ~PageMask;
        if (size == 0)
            return false;

        int index = IndexContaining(guestPhys);
        if (index >= 0 && _regions[index].Base == guestPhys && _regions[index].Size <= size)
            _regions.RemoveAt(index);
        return true;
    }

    /// <summary>The region that contains <paramref name="guestPhys"/>, or null.</summary>
    public GuestRegion? Find(ulong guestPhys)
    {
        int index = IndexContaining(guestPhys);
        return index >= 0 ? _regions[index] : null;
    }

    private static bool InManagedRange(ulong guestPhys, ulong size)
    {
        if (size == 0)
            return false;
        return guestPhys < LastPage ? size <= LastPage - guestPhys : size <= PageSize;
    }

    private bool Overlaps(int index, ulong guestPhys, ulong size)
    {
        ulong last = guestPhys + (size - 1);
        if (index > 0 && _regions[index - 1].Last >= guestPhys)
            return true;
        return index < _regions.Count && _regions[index].Base <= last;
    }

    private int IndexContaining(ulong guestPhys)
    {
        int index = LowerBound(guestPhys);
        if (index < _regions.Count && _regions[index].Base == guestPhys)
            return index;
        return index > 0 && _regions[index - 1].Contains(guestPhys) ? index - 1 : -1;
    }

    /// <summary>The first index whose region starts at or above <paramref name="guestPhys"/>.</summary>
    private int LowerBound(ulong guestPhys)
    {
        int low = 0, high = _regions.Count;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_regions[mid].Base < guestPhys)
                low = mid + 1;
            else
                high = mid;
        }
        return low;
    }
}
