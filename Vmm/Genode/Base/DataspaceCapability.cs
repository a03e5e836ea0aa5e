namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Dataspace_capability</c>: an opaque name the kernel model's RAM service hands out and
/// later maps back to physical memory. Zero is the invalid capability.
/// </summary>
public readonly record struct DataspaceCapability(ulong Value)
{
    public static DataspaceCapability Invalid => default;

    public bool IsValid => Value != 0;
}
