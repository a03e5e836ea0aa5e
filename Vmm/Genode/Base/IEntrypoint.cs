namespace Sim.Vmm.Genode;

/// <summary>
/// A Genode entrypoint: one simulated thread of the kernel model, pinned to <see cref="Cpu"/>, that
/// dispatches the signal handlers it manages (and, on kernels whose VM exits arrive as calls, the vCPU
/// exit handlers bound to it). The kernel model decides when a dispatch runs; it must dispatch pending
/// signals in the order <see cref="SignalQueue"/> yields them, one handler at a time.
/// </summary>
public interface IEntrypoint
{
    string Name { get; }

    int Cpu { get; }

    /// <summary>Creates the signal context of <paramref name="dispatcher"/>; its signals are dispatched on this entrypoint.</summary>
    SignalContextCapability Manage(SignalDispatcherBase dispatcher);

    /// <summary>Destroys the dispatcher's signal context; pending signals of it are dropped.</summary>
    void Dissolve(SignalDispatcherBase dispatcher);

    /// <summary>
    /// Delivers <paramref name="count"/> signals to a context managed by this entrypoint, from any thread
    /// or CPU. Submits that arrive before the context is dispatched coalesce into one dispatch whose count
    /// is their sum (Genode semantics); a kernel model keeps them in a <see cref="SignalQueue"/>.
    /// </summary>
    void Submit(SignalContextCapability context, uint count);
}
