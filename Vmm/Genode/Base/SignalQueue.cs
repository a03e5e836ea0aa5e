namespace Sim.Vmm.Genode;

/// <summary>
/// The pending signals of one entrypoint, in the order their contexts first became pending. A context
/// is queued once; further submits before its dispatch only add to its count. Kernel models use this so
/// that every kernel coalesces and orders signals the same way, with no allocation per submit.
/// </summary>
public sealed class SignalQueue
{
    private readonly Queue<SignalContextCapability> _pending = new();

    /// <summary>Contexts waiting for dispatch.</summary>
    public int Count => _pending.Count;

    /// <summary>Adds signals; true if the context was not pending before (the entrypoint must be woken).</summary>
    public bool Submit(SignalContextCapability context, uint count)
    {
        if (!context.Valid || count == 0)
            return false;
        context.Pending += count;
        if (context.Queued)
            return false;
        context.Queued = true;
        _pending.Enqueue(context);
        return true;
    }

    /// <summary>Takes the oldest pending context and its coalesced count; dissolved contexts are skipped.</summary>
    public bool TryTake(out SignalContextCapability context, out uint count)
    {
        while (_pending.TryDequeue(out var next))
        {
            next.Queued = false;
            uint pending = next.Pending;
            next.Pending = 0;
            if (next.Valid && pending != 0)
            {
                context = next;
                count = pending;
                return true;
            }
        }
        context = null!;
        count = 0;
        return false;
    }

    /// <summary>Dispatches the oldest pending context; false if none was pending.</summary>
    public bool DispatchNext()
    {
        if (!TryTake(out var context, out uint count))
            return false;
        context.Dispatcher.Dispatch(count);
        return true;
    }
}
