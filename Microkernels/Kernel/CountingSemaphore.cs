namespace Sim.Microkernels.Kernel;

/// <summary>
/// A kernel semaphore: a counter and the threads blocked on it in arrival order. Up wakes the
/// first waiter or counts; down takes a count or blocks, optionally until a deadline. NOVA's SM,
/// and what other kernels' notifications and Genode's semaphores build on.
/// </summary>
public sealed class CountingSemaphore
{
    /// <summary>The wake status of a down that was satisfied by an up.</summary>
    public const int Acquired = 0;

    private readonly LinkedList<KernelThread> _waiters = new();

    public CountingSemaphore(ulong initial = 0) => Count = initial;

    public ulong Count { get; private set; }

    public int WaiterCount => _waiters.Count;

    /// <summary>Wakes the longest waiter, or counts up when nobody waits.</summary>
    public void Up()
    {
        if (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            var thread = first.Value;
            thread.BlockedOn = null;
            thread.Processor?.CancelTimeout(thread);
            thread.Wake(Acquired);
            return;
        }
        Count++;
    }

    /// <summary>Takes a count without blocking; false when there is none.</summary>
    public bool TryDown(bool zero = false)
    {
        if (Count == 0) return false;
        Count = zero ? 0 : Count - 1;
        return true;
    }

    /// <summary>
    /// Blocks <paramref name="thread"/> until an up (status <see cref="Acquired"/>) or, when
    /// <paramref name="deadline"/> is given, until its processor's clock reaches it (status
    /// <paramref name="timeoutStatus"/>). The caller has found no count with <see cref="TryDown"/>.
    /// </summary>
    public void Wait(KernelThread thread, ulong? deadline = null, int timeoutStatus = 1)
    {
        thread.Block();
        thread.BlockedOn = this;
        _waiters.AddLast(thread);
        if (deadline is { } d) thread.Processor!.AddTimeout(thread, d, timeoutStatus);
    }

    /// <summary>Removes a waiter whose wait ended otherwise (a timeout, a kill).</summary>
    public bool Forget(KernelThread thread)
    {
        if (!_waiters.Remove(thread)) return false;
        thread.BlockedOn = null;
        return true;
    }

    /// <summary>Blocks a host thread: awaitable, completes at once when a count is there.</summary>
    public ThreadWait Down(HostThread thread, bool zero = false, ulong? deadline = null, int timeoutStatus = 1)
    {
        if (TryDown(zero)) return ThreadWait.Completed(Acquired);
        Wait(thread, deadline, timeoutStatus);
        return ThreadWait.Blocked(thread);
    }
}
