namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Semaphore</c> without blocking a host thread: a waiter registers a wake action instead of
/// sleeping. <see cref="Up"/> hands the count to the oldest waiter by invoking its action synchronously,
/// so a kernel model passes an action that makes its waiting simulated thread runnable, never one that
/// runs the thread's work in place.
/// </summary>
public sealed class CountingSemaphore(int initial = 0)
{
    private readonly Queue<Action> _waiters = new();

    public int Count { get; private set; } = initial;

    public int Waiters => _waiters.Count;

    public void Up()
    {
        if (_waiters.TryDequeue(out var wake))
            wake();
        else
            Count++;
    }

    /// <summary>Takes one count if available.</summary>
    public bool TryDown()
    {
        if (Count == 0)
            return false;
        Count--;
        return true;
    }

    /// <summary>Takes one count now (true, <paramref name="wake"/> not called) or queues <paramref name="wake"/> for a later <see cref="Up"/> (false).</summary>
    public bool Down(Action wake)
    {
        if (TryDown())
            return true;
        _waiters.Enqueue(wake);
        return false;
    }
}
