using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>The VM service of NOVA's core, what a composition root registers as <see cref="IVmBackend"/> for the NOVA model.</summary>
public sealed class NovaVmBackend(NovaCore core) : IVmBackend
{
    public IVmSession? OpenSession(IGenodeEnv env, VmSessionArgs args)
    {
        if (env is not NovaGenodeEnv nova || !ReferenceEquals(nova.CoreServices, core)) return null;
        if (!core.Kernel.VirtualizationAvailable) return null;
        return new NovaVmSession(nova, args);
    }
}
