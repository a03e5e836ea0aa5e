using System.Numerics;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// One processor's scheduler: strict priorities, round robin with time slices within a priority,
/// as NOVA's and seL4's schedulers are. The queues hold only ready threads; the running thread
/// stays at the head of its queue until it blocks or its slice ends.
/// </summary>
public sealed class CpuScheduler
{
    public const int Priorities = 256;

    private readonly LinkedList<KernelThread>[] _ready = new LinkedList<KernelThread>[Priorities];
    private readonly Dictionary<KernelThread, LinkedListNode<KernelThread>> _nodes = new(ReferenceEqualityComparer.Instance);
    private readonly ulong[] _occupied = new ulong[Priorities / 64];

    public CpuScheduler(KernelProcessor processor)
    {
        Processor = processor;
        for (var i = 0; i < Priorities; i++) _ready[i] = new LinkedList<KernelThread>();
    }

    public KernelProcessor Processor { get; }

    /// <summary>Ready threads, the running one included.</summary>
    public int ReadyCount => _nodes.Count;

    /// <summary>Puts a thread in its priority's queue, behind the others; a thread of higher priority than the running one preempts it at the next scheduling point.</summary>
    public void MakeReady(KernelThread thread)
    {
        if (thread.State == KernelThreadState.Dead) return;
        if (thread.Processor != Processor) throw new InvalidOperationException($"thread {thread.Name} belongs to CPU {thread.Processor?.Index}");
        thread.State = KernelThreadState.Ready;
        if (_nodes.ContainsKey(thread)) return;
        _nodes[thread] = _ready[thread.Priority].AddLast(thread);
        _occupied[thread.Priority >> 6] |= 1UL << (thread.Priority & 63);
        Processor.ThreadBecameReady(thread);
    }

    /// <summary>Takes a thread out of the ready queues.</summary>
    public void Remove(KernelThread thread)
    {
        if (!_nodes.Remove(thread, out var node)) return;
        var queue = _ready[thread.Priority];
        queue.Remove(node);
        if (queue.Count == 0) _occupied[thread.Priority >> 6] &= ~(1UL << (thread.Priority & 63));
    }

    /// <summary>The end of a thread's time slice: it goes behind the others of its priority with a fresh slice.</summary>
    public void Rotate(KernelThread thread)
    {
        thread.QuantumLeft = thread.Quantum;
        if (!_nodes.TryGetValue(thread, out var node)) return;
        var queue = _ready[thread.Priority];
        queue.Remove(node);
        queue.AddLast(node);
    }

    /// <summary>The thread to run: the first of the highest non-empty priority, or null when none is ready.</summary>
    public KernelThread? Pick()
    {
        for (var word = _occupied.Length - 1; word >= 0; word--)
        {
            var bits = _occupied[word];
            if (bits == 0) continue;
            var priority = word * 64 + 63 - BitOperations.LeadingZeroCount(bits);
            return _ready[priority].First!.Value;
        }
        return null;
    }

    /// <summary>The highest priority with a ready thread, or -1.</summary>
    public int HighestReadyPriority => Pick()?.Priority ?? -1;
}
