namespace Sim.Vmm.Genode;

/// <summary>
/// The 2019 client API (Genode 19.05 <c>Vm_session_client</c>) a kernel backend implements.
/// Contract:
/// <list type="bullet">
/// <item><see cref="CreateVcpu"/> binds the vCPU to the handler's entrypoint and runs it on that
/// entrypoint's CPU; ids count from 0 in creation order. It may ask
/// <see cref="VmHandlerBase.ConfigVmEvent"/> which registers each exit needs; a register the callback
/// touches (sets valid) is requested. Nothing runs before the first <see cref="Run"/>.</item>
/// <item>The first <see cref="Run"/> starts the vCPU; its first exit is <see cref="VmExitReason.Startup"/>.</item>
/// <item>Every exit is reported by setting <see cref="VmState.ExitReason"/> and marking valid what the
/// kernel transferred in the state <see cref="CpuState"/> returns, then calling
/// <see cref="VmHandlerBase.Dispatch()"/> on the handler's entrypoint thread (directly, or via its
/// signal context). After the dispatch the vCPU resumes only if <see cref="Run"/> was called during it;
/// then the backend loads the valid registers and invalidates nothing itself.</item>
/// <item><see cref="Run"/> from outside the handler resumes a stopped vCPU with the state's valid registers.</item>
/// <item><see cref="Pause"/> stops a running vCPU with a <see cref="VmExitReason.Recall"/> exit; a pause of
/// a vCPU that is already stopped (halted, paused) still yields one 0xff exit, whose state keeps the
/// values of the previous exit (NOVA re-reads nothing).</item>
/// <item>Unknown ids are ignored.</item>
/// </list>
/// </summary>
public interface IVmSession2019 : IVmSession
{
    VcpuId CreateVcpu(VmHandlerBase handler);

    void Run(VcpuId vcpu);

    void Pause(VcpuId vcpu);

    /// <summary>The vCPU's state object (Genode's <c>cpu_state</c> dataspace), shared by backend and VMM; null for an unknown id.</summary>
    VmState? CpuState(VcpuId vcpu);
}
