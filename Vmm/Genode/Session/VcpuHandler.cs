namespace Sim.Vmm.Genode;

/// <summary>Genode <c>Vcpu_handler&lt;T&gt;</c>: calls a member of <typeparamref name="T"/> on each dispatch, then ups the ready semaphore.</summary>
public sealed class VcpuHandler<T> : VcpuHandlerBase where T : class
{
    private readonly T _obj;
    private readonly Action<T> _member;

    public VcpuHandler(IEntrypoint ep, T obj, Action<T> member)
        : base(ep)
    {
        _obj = obj;
        _member = member;
        Manage();
    }

    public override void Dispatch(uint count)
    {
        _member(_obj);
        ReadySemaphore.Up();
    }
}
