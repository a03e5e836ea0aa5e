using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

public sealed class FakeVmBackend(FakeMachine machine) : IVmBackend
{
    public List<FakeVmSession> Sessions { get; } = [];

    public bool MapsMemory { get; set; } = true;

    public IVmSession? OpenSession(IGenodeEnv env, VmSessionArgs args)
    {
        if (env.Virtualization == VirtualizationKind.None)
            return null;
        var session = new FakeVmSession(machine, env.Virtualization) { MapsMemory = MapsMemory };
        Sessions.Add(session);
        return session;
    }
}
