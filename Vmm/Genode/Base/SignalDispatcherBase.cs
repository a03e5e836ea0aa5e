namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Signal_dispatcher_base</c>: something an entrypoint dispatches when its signal context
/// has pending signals. Concrete dispatchers manage themselves at their entrypoint when constructed.
/// </summary>
public abstract class SignalDispatcherBase(IEntrypoint ep)
{
    public IEntrypoint Ep { get; } = ep;

    /// <summary>The signal context, valid between construction and <see cref="Dissolve"/>.</summary>
    public SignalContextCapability SignalCap { get; private set; } = null!;

    /// <summary>Runs the handler on <see cref="Ep"/>'s thread; <paramref name="count"/> signals were coalesced.</summary>
    public abstract void Dispatch(uint count);

    /// <summary>Submits a signal to this dispatcher from within the component (Genode's <c>local_submit</c>).</summary>
    public void LocalSubmit() => SignalCap.Submit();

    protected void Manage() => SignalCap = Ep.Manage(this);

    public void Dissolve()
    {
        if (SignalCap is { Valid: true })
            Ep.Dissolve(this);
    }
}
