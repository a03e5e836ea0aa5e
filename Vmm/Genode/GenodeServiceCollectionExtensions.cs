using Microsoft.Extensions.DependencyInjection;

namespace Sim.Vmm.Genode;

/// <summary>
/// How a composition root wires a kernel under Genode's VM library, the way Genode picks a
/// kernel-specific <c>ld.lib.so</c>: the kernel model registers its VM backend, the VMM registers its
/// component, and the kernel's launcher resolves the component and constructs it in an environment of
/// its own making.
/// </summary>
public static class GenodeServiceCollectionExtensions
{
    /// <summary>Registers the kernel's VM service.</summary>
    public static IServiceCollection AddVmBackend<TBackend>(this IServiceCollection services)
        where TBackend : class, IVmBackend =>
        services.AddSingleton<IVmBackend, TBackend>();

    /// <summary>Registers a component (a VMM) the kernel's launcher starts.</summary>
    public static IServiceCollection AddGenodeComponent<TComponent>(this IServiceCollection services)
        where TComponent : class, IComponent =>
        services.AddSingleton<TComponent>().AddSingleton<IComponent>(sp => sp.GetRequiredService<TComponent>());
}
