using Sim.Microkernels.Kernel;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// A VM session on NOVA, core and client library together: core's part creates the VM PD, delegates
/// attached dataspaces into its guest-physical space, creates each vCPU (SM and EC with UTCB 0 in
/// the VM PD, event base 256 × id) and its SC; the client part (<see cref="NovaVcpu2019"/>,
/// <see cref="NovaVcpu"/>) creates a portal per exit on the handler's entrypoint.
/// </summary>
internal sealed class NovaVmSession : VmSessionComponent, IVmSession2019, IVmSessionCurrent
{
    /// <summary>Genode's NUM_INITIAL_PT_RESERVED: the vCPUs' SM and EC land at 64 + 4 × id in the component's PD.</summary>
    public const ulong InitialPtReserved = 64;

    /// <summary>Portals per vCPU (NUM_INITIAL_VCPU_PT).</summary>
    public const int ExitPortals = NovaKernel.NumVmi;

    private readonly List<NovaVcpuCore> _vcpus = new();
    private readonly List<NovaVcpu2019> _legacy = new();
    private readonly List<(ulong GuestPhys, ulong Size)> _mapped = new();
    private readonly ulong _vmPd;
    private bool _closed;

    public NovaVmSession(NovaGenodeEnv env, VmSessionArgs args)
    {
        Env = env;
        Args = args;
        _vmPd = env.CoreSelectors.Allocate();
        env.Core(() => Check(Kernel.CreatePd(_vmPd, NovaKernel.RootPdSelector, $"vm ({env.Label})"), "create_pd"));
    }

    public NovaGenodeEnv Env { get; }

    public VmSessionArgs Args { get; }

    public NovaKernel Kernel => Env.Kernel;

    public Pd VmPd => Kernel.RootPd.Objects.Lookup<Pd>(_vmPd)!;

    /// <summary>Core's selector for the VM PD.</summary>
    public ulong VmPdCore => _vmPd;

    protected override AttachResult AttachVmMemory(IRamDataspace dataspace, ulong guestPhys, AttachAttr attr)
    {
        var ds = Env.CoreServices.Dataspace(dataspace);
        if (ds == null) return AttachResult.InvalidDataspace;
        var rights = GuestPageRights.Read | (attr.Writeable ? GuestPageRights.Write : 0) | (attr.Executable ? GuestPageRights.Execute : 0);
        var status = NovaStatus.Success;
        Env.Core(() => status = Kernel.DelegateMemory(_vmPd, ds.Physical + attr.Offset, guestPhys, attr.Size, rights));
        if (status == NovaStatus.Success) _mapped.Add((guestPhys, attr.Size));
        return status switch
        {
            NovaStatus.Success => AttachResult.Ok,
            NovaStatus.PdOutOfMemory => AttachResult.OutOfRam,
            _ => AttachResult.InvalidDataspace,
        };
    }

    protected override void DetachVmMemory(ulong guestPhys, ulong size) =>
        Env.Core(() => Kernel.RevokeMemory(_vmPd, guestPhys, size));

    /// <summary>Core's create_vcpu: the vCPU on the handler entrypoint's CPU, its SM and EC delegated to the component.</summary>
    private NovaVcpuCore CreateVcpuCore(NovaEntrypoint ep)
    {
        var id = (uint)_vcpus.Count;
        var core = new NovaVcpuCore(this, id, ep);
        Env.Core(() =>
        {
            Check(Kernel.CreateSm(core.SmCore, NovaKernel.RootPdSelector), "create_sm");
            Check(Kernel.CreateEc(core.EcCore, _vmPd, ep.Cpu, utcb: 0, eventBase: core.EventBase, global: true, name: $"vcpu{id} ({Env.Label})"), "create_ec");
            const uint rights = ObjectRights.EcRecall | ObjectRights.SmUp | ObjectRights.SmDown;
            Check(Kernel.DelegateObject(core.SmCore, Env.PdCore, core.SmOwn, rights), "delegate sm");
            Check(Kernel.DelegateObject(core.EcCore, Env.PdCore, core.EcOwn, rights), "delegate ec");
        });
        core.Ec = Kernel.RootPd.Objects.Lookup<Ec>(core.EcCore)!;
        _vcpus.Add(core);
        return core;
    }

    private NovaEntrypoint EntrypointOf(IEntrypoint ep) => ep as NovaEntrypoint
        ?? throw new ArgumentException("the handler's entrypoint is not one of this kernel's", nameof(ep));

    public VcpuId CreateVcpu(VmHandlerBase handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var core = CreateVcpuCore(EntrypointOf(handler.Ep));
        var vcpu = new NovaVcpu2019(core, handler);
        _legacy.Add(vcpu);
        return new VcpuId(core.Id);
    }

    public void Run(VcpuId vcpu)
    {
        if (Legacy(vcpu) is { } v && v.Resume()) v.Core.Startup();
    }

    public void Pause(VcpuId vcpu) => Legacy(vcpu)?.Pause();

    public VmState? CpuState(VcpuId vcpu) => Legacy(vcpu)?.State;

    private NovaVcpu2019? Legacy(VcpuId vcpu) => _closed ? null : _legacy.Find(v => v.Core.Id == vcpu.Id);

    public INativeVcpu CreateVcpu(VcpuHandlerBase handler, ExitConfig config)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var core = CreateVcpuCore(EntrypointOf(handler.Ep));
        return new NovaVcpu(core, handler, config);
    }

    public override void Dispose()
    {
        if (_closed) return;
        _closed = true;
        foreach (var vcpu in _vcpus) vcpu.Destroy();
        Env.Core(() =>
        {
            foreach (var (guestPhys, size) in _mapped) Kernel.RevokeMemory(_vmPd, guestPhys, size);
        });
        _mapped.Clear();
    }

    internal void Check(NovaStatus status, string what)
    {
        if (status != NovaStatus.Success) throw new InvalidOperationException($"NOVA: {what} failed with {status}");
    }
}
