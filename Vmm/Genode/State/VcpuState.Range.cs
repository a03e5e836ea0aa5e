namespace Sim.Vmm.Genode;

public sealed partial class VcpuState
{
    /// <summary>
    /// A descriptor-table register; current order: limit, then base (swapped against 19.05's
    /// <see cref="VmState.Range"/>), which a positional initialiser such as <c>Range{0, 0xffff}</c> makes visible.
    /// </summary>
    public readonly record struct Range(uint Limit, ulong Base);
}
