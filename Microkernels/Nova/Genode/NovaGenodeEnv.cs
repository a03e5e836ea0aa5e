using Sim.Cpu;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>A component's environment on NOVA: its PD, its entrypoints, core's RAM and timer services, its LOG.</summary>
public sealed class NovaGenodeEnv : IGenodeEnv
{
    private readonly Action<string> _log;
    private readonly List<NovaEntrypoint> _entrypoints = new();
    private NovaEntrypoint? _ep;

    internal NovaGenodeEnv(NovaCore core, string label, Action<string> log)
    {
        CoreServices = core;
        Label = label;
        _log = log;
        PdCore = core.Selectors.Allocate();
        core.Run(() =>
        {
            var status = Kernel.CreatePd(PdCore, NovaKernel.RootPdSelector, label);
            if (status != NovaStatus.Success) throw new InvalidOperationException($"NOVA refused the PD of {label}: {status}");
        });
        Pd = Kernel.RootPd.Objects.Lookup<Pd>(PdCore)!;
    }

    public string Label { get; }

    public NovaCore CoreServices { get; }

    public NovaKernel Kernel => CoreServices.Kernel;

    /// <summary>The component's PD and core's selector for it.</summary>
    public Pd Pd { get; }

    public ulong PdCore { get; }

    internal SelectorAllocator CoreSelectors => CoreServices.Selectors;

    /// <summary>Selectors in the component's own PD; the first <see cref="NovaVmSession.InitialPtReserved"/> are Genode's reserved ones.</summary>
    internal SelectorAllocator OwnSelectors { get; } = new(0x1000);

    internal void StartMainEntrypoint(Action construct) => _ep = Add(new NovaEntrypoint(this, "ep", 0, construct));

    public IEntrypoint Ep => _ep ?? throw new InvalidOperationException("the component has not started");

    public IEntrypoint CreateEntrypoint(string name, int cpu)
    {
        if (cpu < 0 || cpu >= CpuCount) throw new ArgumentOutOfRangeException(nameof(cpu), $"no CPU {cpu} in the affinity space of {CpuCount}");
        return Add(new NovaEntrypoint(this, name, cpu));
    }

    private NovaEntrypoint Add(NovaEntrypoint ep)
    {
        _entrypoints.Add(ep);
        return ep;
    }

    /// <summary>The entrypoint whose EC runs now, or null when it is none of this component's.</summary>
    internal NovaEntrypoint? CurrentEntrypoint
    {
        get
        {
            var ec = Kernel.CurrentEc;
            foreach (var ep in _entrypoints)
                if (ep.Owns(ec)) return ep;
            return null;
        }
    }

    public IRamDataspace? AllocRam(ulong size) => CoreServices.AllocateRam(size);

    public void FreeRam(IRamDataspace dataspace) => CoreServices.FreeRam(dataspace);

    public ITimerConnection OpenTimer() => new NovaTimerConnection(this);

    public void Log(string line) => _log(line);

    public void Warning(string message) => _log("Warning: " + message);

    public void Error(string message) => _log("Error: " + message);

    public int CpuCount => Kernel.Processors.Count;

    public VirtualizationKind Virtualization => !Kernel.VirtualizationAvailable ? VirtualizationKind.None
        : Kernel.Vendor == CpuVendor.Intel ? VirtualizationKind.Vmx : VirtualizationKind.Svm;

    /// <summary>RDTSCP in the component: the TSC of the CPU it runs on and IA32_TSC_AUX, which NOVA sets to the CPU number.</summary>
    public (ulong Tsc, uint TscAux) Rdtscp()
    {
        var p = Kernel.ChargedProcessor;
        return (p.Cpu.TimeStampCounter, (uint)p.Index);
    }

    internal void Core(Action operation) => CoreServices.Run(operation);
}
