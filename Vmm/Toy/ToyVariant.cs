namespace Sim.Vmm.Toy;

/// <summary>Which version of Genode's VMM unit test (<c>test/vmm_x86</c>) the toy VMM reproduces.</summary>
public enum ToyVariant
{
    /// <summary>Genode 19.05: the 2019 API (run/pause, <see cref="Sim.Vmm.Genode.VmState"/>), guest bytes poked at 0xff0.</summary>
    Genode1905,

    /// <summary>Current Genode: <c>with_state</c>, <see cref="Sim.Vmm.Genode.VcpuState"/>, the guest assembled from <c>guest.s</c>.</summary>
    Current,
}
