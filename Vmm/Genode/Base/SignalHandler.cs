namespace Sim.Vmm.Genode;

/// <summary>Genode's <c>Signal_handler&lt;T&gt;</c>: calls a member of <typeparamref name="T"/> on each dispatch.</summary>
public sealed class SignalHandler<T> : SignalDispatcherBase where T : class
{
    private readonly T _obj;
    private readonly Action<T> _member;

    public SignalHandler(IEntrypoint ep, T obj, Action<T> member)
        : base(ep)
    {
        _obj = obj;
        _member = member;
        Manage();
    }

    public override void Dispatch(uint count) => _member(_obj);
}
