using Microsoft.Extensions.DependencyInjection;
using Sim.Platform;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>How a composition root puts the NOVA model under Genode's VM library: the kernel on the machine, core, and core's VM service as the library's backend.</summary>
public static class NovaServiceCollectionExtensions
{
    public static IServiceCollection AddNova(this IServiceCollection services, Machine machine) =>
        services
            .AddSingleton(_ => new NovaKernel(machine))
            .AddSingleton(sp => new NovaCore(sp.GetRequiredService<NovaKernel>()))
            .AddVmBackend<NovaVmBackend>();
}
