using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>Test double of an entrypoint: its signal queue is drained one dispatch per event.</summary>
public sealed class FakeEntrypoint(FakeMachine machine, string name, int cpu) : IEntrypoint
{
    private readonly SignalQueue _signals = new();

    public string Name { get; } = name;

    public int Cpu { get; } = cpu;

    public int Dispatches { get; private set; }

    public SignalContextCapability Manage(SignalDispatcherBase dispatcher) => new(this, dispatcher);

    public void Dissolve(SignalDispatcherBase dispatcher)
    {
    }

    public void Submit(SignalContextCapability context, uint count)
    {
        if (_signals.Submit(context, count))
            machine.Schedule(0, this, DispatchOne);
    }

    /// <summary>Runs <paramref name="action"/> on this entrypoint's thread, as a portal call does.</summary>
    public void Call(Action action) => machine.Schedule(0, this, action);

    private void DispatchOne()
    {
        if (_signals.DispatchNext())
            Dispatches++;
        if (_signals.Count > 0)
            machine.Schedule(0, this, DispatchOne);
    }
}
