namespace Sim.Vmx;

/// <summary>
/// One per machine: which processor each active VMCS is active on. A VMCS active on one processor
/// is not used on another until VMCLEAR on the first has written it back (SDM vol. 3, 25.1 and
/// 25.11.1); VMPTRLD and VMCLEAR of it elsewhere fail (see <see cref="VmxUnit"/>).
/// </summary>
public sealed class VmcsRegistry
{
    private readonly Dictionary<ulong, int> _owner = new();

    /// <summary>The processor index the VMCS at <paramref name="address"/> is active on, or -1.</summary>
    public int OwnerOf(ulong address) => _owner.TryGetValue(address, out var cpu) ? cpu : -1;

    internal void Activate(ulong address, int cpu) => _owner[address] = cpu;

    internal void Release(ulong address) => _owner.Remove(address);
}
