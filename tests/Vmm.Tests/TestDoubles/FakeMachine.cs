namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>
/// Test double of a kernel model's scheduler: one deterministic event queue in simulated microseconds,
/// ties broken by submission order. Every action runs to completion, as host software on a simulated
/// thread does; <see cref="Current"/> is the entrypoint whose thread runs the action.
/// </summary>
public sealed class FakeMachine
{
    private readonly PriorityQueue<(FakeEntrypoint? Ep, Action Action), (ulong Time, long Seq)> _events = new();
    private long _seq;

    public ulong Now { get; private set; }

    public FakeEntrypoint? Current { get; private set; }

    public void Schedule(ulong delay, FakeEntrypoint? on, Action action) =>
        _events.Enqueue((on, action), (Now + delay, _seq++));

    /// <summary>Runs events until <paramref name="done"/> holds, the queue is empty, or simulated time passes <paramref name="limit"/>.</summary>
    public bool RunUntil(Func<bool> done, ulong limit)
    {
        while (!done())
        {
            if (!_events.TryDequeue(out var next, out var when) || when.Time > limit)
                return false;
            Now = when.Time;
            var previous = Current;
            Current = next.Ep;
            next.Action();
            Current = previous;
        }
        return true;
    }
}
