namespace Sim.Vmm.Genode;

/// <summary>
/// A kernel's vCPU behind <see cref="VmConnection.Vcpu"/> (Genode's <c>Native_vcpu</c>).
/// Contract:
/// <list type="bullet">
/// <item><see cref="Startup"/> lets the vCPU run; its first exit is <see cref="VmExitReason.Startup"/>.</item>
/// <item>On each exit the backend charges what the kernel transferred in its <see cref="VcpuState"/>,
/// sets <see cref="VcpuState.ExitReason"/>, and dispatches the handler on its entrypoint (directly or by
/// submitting <see cref="VcpuHandlerBase.SignalCap"/>). The vCPU stays stopped until a
/// <see cref="WithState"/> function returns true.</item>
/// <item><see cref="WithState"/> is called on the handler's entrypoint thread, inside or outside an exit
/// dispatch. It guarantees the vCPU is stopped while <c>fn</c> runs: outside an exit it stops a running
/// vCPU (or takes a stopped one as it is) and presents <see cref="VmExitReason.Recall"/> as the exit
/// reason, with the current state charged. If <c>fn</c> returns true the charged registers (and a
/// charged FPU image) are loaded and the vCPU resumes; otherwise it stays stopped. A recall the backend
/// caused for its own access is not dispatched to the handler again.</item>
/// <item>A handler dispatch that the VMM triggered with <see cref="SignalDispatcherBase.LocalSubmit"/>
/// while no exit is pending sees exit reason 0xff in <see cref="WithState"/>.</item>
/// </list>
/// Dispose destroys the vCPU.
/// </summary>
public interface INativeVcpu : IDisposable
{
    void Startup();

    void WithState(Func<VcpuState, bool> fn);
}
