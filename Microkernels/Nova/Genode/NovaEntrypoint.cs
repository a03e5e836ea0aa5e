using Sim.Microkernels.Kernel;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// A Genode entrypoint on NOVA: a local EC that serves the entrypoint's portals (on NOVA the VM exit
/// portals of the vCPUs it handles) and a global EC with an SC that waits on the entrypoint's
/// semaphore and dispatches pending signals, one handler at a time. Both live in the component's PD
/// on one CPU; core creates them.
/// </summary>
internal sealed class NovaEntrypoint : IEntrypoint
{
    /// <summary>The priority Genode gives component threads.</summary>
    public const int Priority = 64;

    private readonly NovaGenodeEnv _env;
    private readonly SignalQueue _signals = new();
    private readonly ulong _smCore, _smOwn;
    private readonly Action? _startup;

    public NovaEntrypoint(NovaGenodeEnv env, string name, int cpu, Action? startup = null)
    {
        _env = env;
        Name = name;
        Cpu = cpu;
        _startup = startup;
        var kernel = env.Kernel;
        var root = NovaKernel.RootPdSelector;
        LocalEcCore = env.CoreSelectors.Allocate();
        _smCore = env.CoreSelectors.Allocate();
        _smOwn = env.OwnSelectors.Allocate();
        var global = env.CoreSelectors.Allocate();
        var sc = env.CoreSelectors.Allocate();
        env.Core(() =>
        {
            Check(kernel.CreateEc(LocalEcCore, env.PdCore, cpu, utcb: 1, eventBase: 0, global: false, name: $"{name} (rpc)"));
            Check(kernel.CreateSm(_smCore, root));
            Check(kernel.DelegateObject(_smCore, env.PdCore, _smOwn, ObjectRights.SmUp | ObjectRights.SmDown));
            Check(kernel.CreateEc(global, env.PdCore, cpu, utcb: 1, eventBase: 0, global: true, entry: Loop, name: name));
            LocalEc = kernel.RootPd.Objects.Lookup<Ec>(LocalEcCore)!;
            GlobalEc = kernel.RootPd.Objects.Lookup<Ec>(global)!;
            Check(kernel.CreateSc(sc, root, global, Priority));
        });
    }

    public string Name { get; }

    public int Cpu { get; }

    /// <summary>The EC that serves the entrypoint's portals, and core's selector for it.</summary>
    public Ec LocalEc { get; private set; } = null!;

    public ulong LocalEcCore { get; }

    /// <summary>The EC whose SC dispatches signals.</summary>
    public Ec GlobalEc { get; private set; } = null!;

    /// <summary>Whether <paramref name="ec"/> is one of this entrypoint's ECs (Genode's "myself is this entrypoint").</summary>
    public bool Owns(Ec ec) => ReferenceEquals(ec, LocalEc) || ReferenceEquals(ec, GlobalEc);

    public SignalContextCapability Manage(SignalDispatcherBase dispatcher) => new(this, dispatcher);

    public void Dissolve(SignalDispatcherBase dispatcher) => dispatcher.SignalCap.Invalidate();

    public void Submit(SignalContextCapability context, uint count)
    {
        if (!_signals.Submit(context, count)) return;
        var kernel = _env.Kernel;
        kernel.ChargedProcessor.Charge(KernelOperation.Signal);
        kernel.AsRoottask(() => kernel.SmUp(_smCore));
    }

    private async Task Loop()
    {
        _startup?.Invoke();
        var kernel = _env.Kernel;
        while (true)
        {
            var status = (NovaStatus)await kernel.SmDown(_smOwn);
            if (status != NovaStatus.Success) throw new InvalidOperationException($"{Name}: signal semaphore down failed with {status}");
            while (_signals.DispatchNext())
            {
            }
        }
    }

    private static void Check(NovaStatus status)
    {
        if (status != NovaStatus.Success) throw new InvalidOperationException($"NOVA refused to create an entrypoint: {status}");
    }

    public override string ToString() => Name;
}
