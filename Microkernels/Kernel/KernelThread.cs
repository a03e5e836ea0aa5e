namespace Sim.Microkernels.Kernel;

/// <summary>
/// A simulated thread: the unit a kernel model's per-processor scheduler runs — a NOVA EC with its
/// SC, a seL4 TCB, a Fiasco.OC thread, a base-hw thread. Host software runs as
/// <see cref="HostThread"/>s (C# coroutines); a vCPU is a thread whose time goes to its guest. A
/// thread that blocks gives up its processor until something wakes it; no host thread ever waits.
/// </summary>
public abstract class KernelThread
{
    protected KernelThread(string name, int priority, ulong quantum)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (priority is < 0 or >= CpuScheduler.Priorities) throw new ArgumentOutOfRangeException(nameof(priority));
        if (quantum == 0) throw new ArgumentOutOfRangeException(nameof(quantum));
        Name = name;
        Priority = priority;
        Quantum = quantum;
        QuantumLeft = quantum;
    }

    public string Name { get; }

    /// <summary>A number unique within its kernel model, given at <see cref="KernelModel.Register"/>; it names the thread in traces.</summary>
    public int Id { get; internal set; } = -1;

    /// <summary>Higher runs first; the range is <see cref="CpuScheduler.Priorities"/>.</summary>
    public int Priority { get; }

    /// <summary>The time slice, in cycles, the thread runs before others of its priority get their turn.</summary>
    public ulong Quantum { get; }

    /// <summary>What is left of the current time slice.</summary>
    public ulong QuantumLeft { get; internal set; }

    public KernelThreadState State { get; internal set; } = KernelThreadState.Created;

    /// <summary>The processor whose scheduler runs the thread.</summary>
    public KernelProcessor? Processor { get; internal set; }

    /// <summary>The kernel object the thread is the scheduling context of (a NOVA EC, a seL4 TCB).</summary>
    public object? Owner { get; init; }

    /// <summary>The address space the thread runs in; switching between two costs an address-space switch.</summary>
    public object? AddressSpace { get; init; }

    /// <summary>The semaphore the thread is blocked on, if it is.</summary>
    public CountingSemaphore? BlockedOn { get; internal set; }

    /// <summary>The status a waker left for the thread (e.g. a timeout), read when it runs again.</summary>
    public int WakeStatus { get; private set; }

    /// <summary>Runs the thread on its processor until it blocks, ends, or the processor's clock reaches <paramref name="until"/>.</summary>
    protected internal abstract void Run(ulong until);

    /// <summary>Makes a blocked thread ready again, leaving <paramref name="status"/> for it; the scheduler runs it in priority order.</summary>
    public void Wake(int status = 0)
    {
        if (State != KernelThreadState.Blocked) return;
        WakeStatus = status;
        Processor!.Scheduler.MakeReady(this);
    }

    /// <summary>Takes the thread off its processor until <see cref="Wake"/>.</summary>
    public void Block()
    {
        if (State == KernelThreadState.Dead) return;
        Processor!.Scheduler.Remove(this);
        State = KernelThreadState.Blocked;
    }

    /// <summary>Ends the thread for good.</summary>
    public void Kill()
    {
        if (State == KernelThreadState.Dead) return;
        Processor?.Scheduler.Remove(this);
        State = KernelThreadState.Dead;
    }

    public override string ToString() => Name;
}
