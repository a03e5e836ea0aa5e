namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Signal_context_capability</c>: names one signal context, owned by the entrypoint that
/// manages its dispatcher. <see cref="Submit"/> is Genode's <c>Signal_transmitter::submit</c>.
/// </summary>
public sealed class SignalContextCapability(IEntrypoint ep, SignalDispatcherBase dispatcher)
{
    public IEntrypoint Ep { get; } = ep;

    public SignalDispatcherBase Dispatcher { get; } = dispatcher;

    /// <summary>False once the context is dissolved; submits to it are dropped.</summary>
    public bool Valid { get; internal set; } = true;

    /// <summary>Whatever the kernel model keeps for this context (a kernel signal object, a portal).</summary>
    public object? KernelObject { get; set; }

    internal uint Pending;
    internal bool Queued;

    public void Submit(uint count = 1)
    {
        if (Valid && count != 0)
            Ep.Submit(this, count);
    }

    /// <summary>Marks the context dissolved; the entrypoint calls this from <see cref="IEntrypoint.Dissolve"/>.</summary>
    public void Invalidate()
    {
        Valid = false;
        Pending = 0;
    }
}
