using Sim.Microkernels.Kernel;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// Genode's core on the NOVA model: the roottask that creates components' PDs and threads, owns
/// physical RAM outside kernel memory and hands it out as dataspaces, and starts components. Its
/// hypercalls use the roottask's capabilities (<see cref="NovaKernel.AsRoottask{T}"/>).
/// </summary>
public sealed class NovaCore
{
    /// <summary>RAM below this is left to firmware and boot images; dataspaces come from above it.</summary>
    public const ulong RamStart = 16UL << 20;

    private readonly Dictionary<ulong, NovaRamDataspace> _dataspaces = new();
    private ulong _nextRam = RamStart;
    private ulong _nextCap = 1;

    public NovaCore(NovaKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        Kernel = kernel;
        if (kernel.Memory.Base <= RamStart) throw new ArgumentException("the machine has no RAM for components above 16 MiB");
    }

    public NovaKernel Kernel { get; }

    /// <summary>Selectors in the roottask's object space.</summary>
    internal SelectorAllocator Selectors { get; } = new(0x10000);

    /// <summary>The components started, in order.</summary>
    public List<NovaGenodeEnv> Components { get; } = new();

    /// <summary>Creates a component's PD and main entrypoint and constructs <paramref name="component"/> on it once the machine runs.</summary>
    public NovaGenodeEnv Launch(IComponent component, string label, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(component);
        var env = new NovaGenodeEnv(this, label, log);
        env.StartMainEntrypoint(() => component.Construct(env));
        Components.Add(env);
        return env;
    }

    internal NovaRamDataspace? AllocateRam(ulong size)
    {
        size = (size + 0xFFF) & ~0xFFFUL;
        if (size == 0 || _nextRam + size > Kernel.Memory.Base) return null;
        var ds = new NovaRamDataspace(Kernel.Machine.Memory, new DataspaceCapability(_nextCap++), _nextRam, size);
        Kernel.Machine.Memory.Zero(_nextRam, size);
        _nextRam += size;
        _dataspaces[ds.Cap.Value] = ds;
        return ds;
    }

    internal void FreeRam(IRamDataspace dataspace)
    {
        if (dataspace is NovaRamDataspace ds && _dataspaces.Remove(ds.Cap.Value)) ds.Cap = DataspaceCapability.Invalid;
    }

    /// <summary>The dataspace behind a capability this core handed out, or null.</summary>
    internal NovaRamDataspace? Dataspace(IRamDataspace? dataspace) =>
        dataspace is NovaRamDataspace ds && ds.Cap.IsValid && _dataspaces.TryGetValue(ds.Cap.Value, out var known) && ReferenceEquals(known, ds) ? ds : null;

    internal void Run(Action operation) => Kernel.AsRoottask(() =>
    {
        operation();
        return 0;
    });

    internal KernelProcessor Processor(int cpu) => Kernel.Processors[cpu];
}
