namespace Sim.Vmx;

/// <summary>
/// Modeled cycles the unit charges to the processor for a VM exit and a VM entry. The defaults
/// split a round trip of 500 cycles evenly: the hardware VM exit + VM entry round-trip latency of
/// Nehalem-to-Sandy-Bridge-class Intel cores charted by O. Agesen, J. Mattson, R. Rugina and
/// J. Sheldon, "Software Techniques for Avoiding Hardware Virtualization Exits", USENIX ATC 2012,
/// figure 1. Host software with better numbers for another core sets <see cref="VmxUnit.Cost"/>.
/// </summary>
public sealed record VmxCost(ulong VmExit = 250, ulong VmEntry = 250)
{
    public static readonly VmxCost Default = new();
}
