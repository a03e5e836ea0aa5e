namespace Sim.Vmm.Genode;

public sealed partial class VmState
{
    /// <summary>A descriptor-table register; 19.05 order: base, then limit.</summary>
    public readonly record struct Range(ulong Base, uint Limit);
}
