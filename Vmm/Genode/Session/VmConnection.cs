namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Vm_connection</c>: a session to the VM service of whatever kernel the composition root
/// chose. It offers both API generations: the 2019 one (<see cref="CreateVcpu"/>, <see cref="Run"/>,
/// <see cref="Pause"/>, <see cref="CpuState"/>) and the current one (<see cref="Vcpu"/>), as far as the
/// kernel's session implements them (<see cref="Supports2019"/>, <see cref="SupportsCurrent"/>).
/// </summary>
public sealed partial class VmConnection : IDisposable
{
    private readonly IVmSession _session;
    private uint _vcpus;
    private bool _closed;

    /// <summary>Opens the session; throws <see cref="InvalidOperationException"/> if the kernel offers none (no VMX/SVM).</summary>
    public VmConnection(IGenodeEnv env, IVmBackend backend, string label = "", int priority = 0, int affinity = 0)
    {
        Env = env;
        _session = backend.OpenSession(env, new VmSessionArgs(label, priority, affinity))
            ?? throw new InvalidOperationException("the kernel offers no VM session");
    }

    public IGenodeEnv Env { get; }

    /// <summary>The kernel's session, for backends' own tests and tools.</summary>
    public IVmSession Session => _session;

    public bool Supports2019 => _session is IVmSession2019;

    public bool SupportsCurrent => _session is IVmSessionCurrent;

    public AttachResult Attach(IRamDataspace? dataspace, ulong guestPhys) =>
        Attach(dataspace, guestPhys, AttachAttr.Default);

    public AttachResult Attach(IRamDataspace? dataspace, ulong guestPhys, AttachAttr attr) =>
        _closed ? AttachResult.InvalidDataspace : _session.Attach(dataspace, guestPhys, attr);

    public void Detach(ulong guestPhys, ulong size)
    {
        if (!_closed)
            _session.Detach(guestPhys, size);
    }

    /// <summary>2019 API: creates a vCPU whose exits <paramref name="handler"/> handles on its entrypoint.</summary>
    public VcpuId CreateVcpu(VmHandlerBase handler)
    {
        var id = Session2019.CreateVcpu(handler);
        _vcpus = Math.Max(_vcpus, id.Id + 1);
        return id;
    }

    /// <summary>2019 API: starts or resumes the vCPU (non-blocking).</summary>
    public void Run(VcpuId vcpu)
    {
        if (Known(vcpu))
            Session2019.Run(vcpu);
    }

    /// <summary>2019 API: requests a stop; the handler sees a <see cref="VmExitReason.Recall"/> exit (non-blocking).</summary>
    public void Pause(VcpuId vcpu)
    {
        if (Known(vcpu))
            Session2019.Pause(vcpu);
    }

    /// <summary>2019 API: the vCPU's state object; null for an unknown id.</summary>
    public VmState? CpuState(VcpuId vcpu) => Known(vcpu) ? Session2019.CpuState(vcpu) : null;

    public void Dispose()
    {
        if (_closed)
            return;
        _closed = true;
        _session.Dispose();
    }

    private bool Known(VcpuId vcpu) => !_closed && vcpu.Id < _vcpus;

    private IVmSession2019 Session2019 => _session as IVmSession2019
        ?? throw new InvalidOperationException("the kernel's VM session does not implement the 2019 API");

    internal IVmSessionCurrent SessionCurrent => _session as IVmSessionCurrent
        ?? throw new InvalidOperationException("the kernel's VM session does not implement the current API");
}
