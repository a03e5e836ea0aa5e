namespace Sim.Vmm.Genode;

/// <summary>Genode 19.05 <c>Vm_session::Vcpu_id</c>: a session's vCPUs are numbered from 0 in creation order.</summary>
public readonly record struct VcpuId(uint Id);
