namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Vm_session::Attach_attr</c>: which part of a dataspace to map (offset, size; size 0 = the
/// rest of the dataspace from the offset) and with which rights.
/// </summary>
public readonly record struct AttachAttr(ulong Offset, ulong Size, bool Executable, bool Writeable)
{
    /// <summary>The client default <c>{0, 0, true, true}</c>: the whole dataspace, executable and writeable.</summary>
    public static AttachAttr Default => new(0, 0, true, true);
}
