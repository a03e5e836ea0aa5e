using Microsoft.Extensions.DependencyInjection;
using Sim.Vmm.Genode;

namespace Sim.Vmm.Toy;

public static class ToyServiceCollectionExtensions
{
    /// <summary>Registers the toy VMM as the component a kernel's launcher constructs; the kernel registers its <see cref="IVmBackend"/>.</summary>
    public static IServiceCollection AddToyVmm(this IServiceCollection services, ToyVariant variant) =>
        services
            .AddSingleton(sp => new ToyVmm(sp.GetRequiredService<IVmBackend>(), variant))
            .AddSingleton<IComponent>(sp => sp.GetRequiredService<ToyVmm>());
}
