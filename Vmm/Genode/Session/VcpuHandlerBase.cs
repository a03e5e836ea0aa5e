namespace Sim.Vmm.Genode;

/// <summary>
/// Genode <c>Vcpu_handler_base</c>: the exit handler of a current-API vCPU, a signal dispatcher on its
/// entrypoint, with the ready semaphore a backend's vCPU thread waits on.
/// </summary>
public abstract class VcpuHandlerBase(IEntrypoint ep) : SignalDispatcherBase(ep)
{
    /// <summary>Upped once after each dispatch has run the VMM's handler (initially 0).</summary>
    public CountingSemaphore ReadySemaphore { get; } = new();

    /// <summary>Runs the handler once, as a backend that delivers the exit by a direct call does.</summary>
    public void Dispatch() => Dispatch(1);
}
