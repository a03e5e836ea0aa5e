namespace Sim.Vmm.Genode;

/// <summary>The current client API (Genode <c>Vm_connection::Vcpu</c>'s per-kernel part) a kernel backend implements.</summary>
public interface IVmSessionCurrent : IVmSession
{
    /// <summary>
    /// Creates a vCPU bound to the handler's entrypoint and CPU and registers the handler for all of its
    /// exits (NOVA: one portal per exit; hw: the exception handler). The vCPU does not run before
    /// <see cref="INativeVcpu.Startup"/>.
    /// </summary>
    INativeVcpu CreateVcpu(VcpuHandlerBase handler, ExitConfig config);
}
