using Sim.Microkernels.Kernel;

namespace Sim.Microkernels.Nova;

/// <summary>What an EC is: a local EC serves portal calls on the caller's time, a global EC has its own SC, a vCPU (UTCB 0) runs a guest.</summary>
public enum EcKind : byte
{
    Local,
    Global,
    Vcpu,
}

/// <summary>
/// An execution context. Local ECs are portal handlers: a call runs the portal's entry on the EC
/// synchronously, one call at a time (callers that find it busy wait in order). Global ECs run C#
/// host code as a <see cref="HostThread"/> once an SC is bound; a vCPU's SC makes it enter its
/// guest, and its exits go to the portals at its event base.
/// </summary>
public sealed partial class Ec : KernelObject
{
    private readonly Queue<(KernelThread Caller, Action Resume)> _callers = new();

    internal Ec(NovaKernel kernel, string name, Pd pd, KernelProcessor processor, EcKind kind, ulong utcb, ulong eventBase, Func<Task>? entry)
        : base(kernel)
    {
        Name = name;
        Pd = pd;
        Processor = processor;
        Kind = kind;
        Utcb = utcb;
        EventBase = eventBase;
        Entry = entry;
    }

    public string Name { get; }

    public Pd Pd { get; }

    public KernelProcessor Processor { get; }

    public EcKind Kind { get; }

    /// <summary>The physical address of the EC's 4 KiB UTCB; 0 for a vCPU.</summary>
    public ulong Utcb { get; }

    /// <summary>The selector base of the EC's event portals (exceptions, or a vCPU's VM exits).</summary>
    public ulong EventBase { get; }

    /// <summary>A global EC's code.</summary>
    public Func<Task>? Entry { get; }

    /// <summary>The thread the EC's SC schedules; null until create_sc (and for local ECs).</summary>
    public KernelThread? Thread { get; internal set; }

    /// <summary>A local EC in a call.</summary>
    public bool Busy { get; private set; }

    /// <summary>Whether the EC was killed (a vCPU whose exit found no portal, a faulted host thread).</summary>
    public bool Dead => Thread?.State == KernelThreadState.Dead;

    /// <summary>
    /// Runs <paramref name="call"/> on this local EC now, or, while the EC serves another call,
    /// blocks <paramref name="caller"/> and runs it as soon as the EC is free, in arrival order
    /// (NOVA's helping: exits to a busy handler are serialised). The call itself wakes a caller
    /// that should go on.
    /// </summary>
    internal void Call(KernelThread caller, Action call)
    {
        if (Busy)
        {
            caller.Block();
            _callers.Enqueue((caller, call));
            return;
        }
        Run(call);
        ServeWaitingCallers();
    }

    /// <summary>
    /// <see cref="Call"/> of a vCPU's exit through <paramref name="pt"/>: without a closure while the EC is free, so that
    /// the exit path allocates nothing; a busy EC queues the call as any other.
    /// </summary>
    internal void CallPortal(Ec vcpu, Pt pt, int portal)
    {
        if (Busy)
        {
            QueuePortalCall(vcpu, pt, portal);
            return;
        }
        Busy = true;
        Kernel.EnterEc(this);
        try
        {
            vcpu.PortalCall(pt, portal);
        }
        finally
        {
            Kernel.LeaveEc(this);
            Busy = false;
        }
        ServeWaitingCallers();
    }

    // Apart, so that the closure is allocated only when the call waits.
    private void QueuePortalCall(Ec vcpu, Pt pt, int portal) => Call(vcpu.Thread!, () => vcpu.PortalCall(pt, portal));

    private void Run(Action call)
    {
        Busy = true;
        Kernel.EnterEc(this);
        try
        {
            call();
        }
        finally
        {
            Kernel.LeaveEc(this);
            Busy = false;
        }
    }

    private void ServeWaitingCallers()
    {
        while (_callers.TryDequeue(out var next)) Run(next.Resume);
    }

    public override string ToString() => Name;
}
