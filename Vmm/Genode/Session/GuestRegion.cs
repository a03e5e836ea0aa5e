namespace Sim.Vmm.Genode;

/// <summary>One attached range of guest-physical memory and the dataspace part behind it.</summary>
public sealed record GuestRegion(ulong Base, ulong Size, IRamDataspace Dataspace, ulong Offset, bool Writeable, bool Executable)
{
    /// <summary>Last guest-physical address of the region (inclusive, so that the top page does not overflow).</summary>
    public ulong Last => Base + (Size - 1);

    public bool Contains(ulong guestPhys) => guestPhys >= Base && guestPhys <= Last;
}
