using Microsoft.Extensions.DependencyInjection;
using Sim.Microkernels.Nova.Genode;
using Sim.Platform;
using Sim.Vmm.Genode;
using Sim.Vmm.Toy;

namespace Sim.Cli;

/// <summary>
/// The kernels and VMMs `sim run --kernel K --vmm V` composes, by the names the command line accepts.
/// As Genode links one ld.lib.so per kernel under kernel-agnostic components, a kernel's registration
/// supplies the VM library's backend (<see cref="IVmBackend"/>) and a VMM's registration only consumes it.
/// </summary>
public static class KernelCatalog
{
    /// <param name="Register">Puts the kernel on the machine and registers its VM backend.</param>
    /// <param name="Launch">Starts a component with a label and a log sink; it constructs once the machine runs.</param>
    public sealed record Kernel(Func<IServiceCollection, Machine, IServiceCollection> Register, Action<IServiceProvider, IComponent, string, Action<string>> Launch);

    /// <param name="Register">Registers the VMM as the <see cref="IComponent"/> to launch.</param>
    /// <param name="WhenDone">Subscribes a callback that receives the exit status (0 finished, 1 failed) and a message.</param>
    /// <param name="MinimumCpus">CPUs the VMM's entrypoints are placed on.</param>
    public sealed record Vmm(Func<IServiceCollection, RunSettings, IServiceCollection> Register, Action<IServiceProvider, Action<int, string>> WhenDone, int MinimumCpus);

    public static IReadOnlyDictionary<string, Kernel> Kernels { get; } = new Dictionary<string, Kernel>(StringComparer.OrdinalIgnoreCase)
    {
        ["nova"] = new(
            (services, machine) => services.AddNova(machine),
            (provider, component, label, log) => provider.GetRequiredService<NovaCore>().Launch(component, label, log)),
    };

    public static IReadOnlyDictionary<string, Vmm> Vmms { get; } = new Dictionary<string, Vmm>(StringComparer.OrdinalIgnoreCase)
    {
        // The toy's second entrypoint runs on CPU 1.
        ["toy"] = new(
            (services, settings) => services.AddToyVmm(settings.Variant),
            (provider, done) => provider.GetRequiredService<ToyVmm>().StatusChanged += vmm =>
            {
                if (vmm.Status == ToyVmmStatus.Finished) done(0, "vmm test finished");
                else if (vmm.Status == ToyVmmStatus.Failed) done(1, $"the VMM failed: {vmm.Errors[^1]}");
            },
            MinimumCpus: 2),
    };

    public static string Names<T>(IReadOnlyDictionary<string, T> catalog) => string.Join(", ", catalog.Keys.Order(StringComparer.Ordinal));
}
