namespace Sim.Vmm.Genode;

/// <summary>Genode 19.05 <c>Vm_handler&lt;T&gt;</c>: calls a member of <typeparamref name="T"/> on each exit, then ups <see cref="VmHandlerBase.Done"/>.</summary>
public sealed class VmHandler<T> : VmHandlerBase where T : class
{
    private readonly T _obj;
    private readonly Action<T> _member;
    private readonly Action<T, VmState, uint>? _config;

    public VmHandler(IEntrypoint ep, T obj, Action<T> member, Action<T, VmState, uint>? config = null)
        : base(ep)
    {
        _obj = obj;
        _member = member;
        _config = config;
        Manage();
    }

    public override void Dispatch(uint count)
    {
        _member(_obj);
        Done.Up();
    }

    public override bool ConfigVmEvent(VmState state, uint exit)
    {
        if (_config is null)
            return false;
        _config(_obj, state, exit);
        return true;
    }
}
