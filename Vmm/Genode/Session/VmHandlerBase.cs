namespace Sim.Vmm.Genode;

/// <summary>
/// Genode 19.05 <c>Vm_handler_base</c>: the exit handler of a 2019-API vCPU, a signal dispatcher on its
/// entrypoint. A backend dispatches it on that entrypoint (the NOVA portal handler runs on the
/// entrypoint's thread and calls <see cref="Dispatch()"/> directly; seL4 and Fiasco.OC vCPU threads
/// submit <see cref="SignalDispatcherBase.SignalCap"/> and wait on <see cref="Done"/>).
/// </summary>
public abstract class VmHandlerBase(IEntrypoint ep) : SignalDispatcherBase(ep)
{
    /// <summary>Upped once after each dispatch has run the VMM's handler (Genode's <c>_done</c>, initially 0).</summary>
    public CountingSemaphore Done { get; } = new();

    /// <summary>
    /// The exit configuration callback: the VMM sets valid in <paramref name="state"/> the registers it
    /// needs on exit <paramref name="exit"/>. False if the VMM gave none (the backend transfers everything).
    /// </summary>
    public abstract bool ConfigVmEvent(VmState state, uint exit);

    /// <summary>Runs the handler once, as a backend that delivers the exit by a direct call does.</summary>
    public void Dispatch() => Dispatch(1);
}
