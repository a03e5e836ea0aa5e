using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Platform;
using Sim.Platform.Apic;
using Sim.Svm;
using Sim.Vmx;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// A physical processor as a kernel model owns it: its scheduler, its timeouts, the interrupts it
/// takes from its local APIC (the timer that ends time slices and timeouts, the IPIs other
/// processors send), and the slices the machine gives it. While host software runs the processor
/// executes nothing; a guest runs only between a VM entry and the exit that ends its slice.
/// </summary>
public sealed class KernelProcessor : IProcessorOwner
{
    /// <summary>The local APIC timer's vector (TSC-deadline mode).</summary>
    public const byte TimerVector = 0xEF;

    /// <summary>The vector of the IPI that carries cross-processor requests (NOVA's RRQ/RKE, seL4's IPI).</summary>
    public const byte RequestVector = 0xF0;

    private const uint ApicEoi = 0xB0, ApicSvr = 0xF0, ApicIcrLow = 0x300, ApicIcrHigh = 0x310, ApicLvtTimer = 0x320;

    private readonly Queue<Action> _requests = new();
    private readonly PriorityQueue<(KernelThread Thread, ulong Generation), (ulong Deadline, ulong Sequence)> _timeouts = new();
    private readonly Dictionary<KernelThread, ulong> _timeoutGeneration = new(ReferenceEqualityComparer.Instance);
    private ulong _timeoutSequence;
    private ulong _armedDeadline;
    private StopReason? _stop;

    internal KernelProcessor(KernelModel model, int index, Processor cpu, LocalApic apic, VmxUnit? vmx, SvmUnit? svm, HostState host)
    {
        Model = model;
        Index = index;
        Cpu = cpu;
        Apic = apic;
        Vmx = vmx;
        Svm = svm;
        Host = host;
        Scheduler = new CpuScheduler(this);
        apic.WriteRegister(ApicSvr, 4, 0x1FF);
        apic.WriteRegister(ApicLvtTimer, 4, (2u << 17) | TimerVector);
    }

    public KernelModel Model { get; }

    public int Index { get; }

    public Processor Cpu { get; }

    public LocalApic Apic { get; }

    public VmxUnit? Vmx { get; }

    public SvmUnit? Svm { get; }

    public HostState Host { get; }

    public CpuScheduler Scheduler { get; }

    /// <summary>The thread that ran last (and runs now, while the processor is in a slice).</summary>
    public KernelThread? Current { get; private set; }

    /// <summary>Whether a guest is between VM entry and VM exit on this processor: interrupts then reach the kernel as exits.</summary>
    public bool InGuest { get; set; }

    /// <summary>Charges <paramref name="cycles"/> of host software to this processor's clock.</summary>
    public void Charge(ulong cycles) => Cpu.AddCycles(cycles);

    /// <summary>Charges one kernel operation as the cost model prices it, <paramref name="count"/> times.</summary>
    public void Charge(KernelOperation operation, ulong count = 1) => Cpu.AddCycles(Model.CostOf(operation) * count);

    /// <summary>A vCPU's guest slice ended without an exit for a reason the machine must see (a stop request): the slice ends.</summary>
    public void EndSlice(StopReason reason) => _stop = reason;

    public StopReason Run(Processor cpu, ulong until)
    {
        _stop = null;
        Model.Running = this;
        try
        {
            while (true)
            {
                if (!InGuest) ServiceInterrupts();
                // Host software that ended the run (a device exit, a scenario's end) stops the slice at once.
                if (Model.Machine.Control.StopRequested) return StopReason.StopRequested;
                if (Cpu.Cycles >= until) return StopReason.CycleLimit;
                // A guest between entry and exit keeps the processor until it exits: the IPI or timer that made others ready ends it soon.
                var next = InGuest && Current is { State: KernelThreadState.Ready } running ? running : Scheduler.Pick();
                if (next == null)
                {
                    Idle();
                    return StopReason.Halted;
                }
                Cpu.Activity = ActivityState.Active;
                if (!ReferenceEquals(next, Current)) Switch(next);
                ArmTimer(next);
                var before = Cpu.Cycles;
                next.Run(until);
                var used = Cpu.Cycles - before;
                if (next.State == KernelThreadState.Ready)
                {
                    if (used >= next.QuantumLeft) Scheduler.Rotate(next);
                    else next.QuantumLeft -= used;
                }
                if (_stop is { } stop) return stop;
            }
        }
        finally
        {
            Model.Running = null;
        }
    }

    private void Switch(KernelThread next)
    {
        var previous = Current;
        Charge(KernelOperation.ThreadSwitch);
        if (previous != null && !ReferenceEquals(previous.AddressSpace, next.AddressSpace)) Charge(KernelOperation.AddressSpaceSwitch);
        Current = next;
        Model.OnThreadSwitch(this, previous, next);
    }

    /// <summary>Nothing to run: the processor halts with interrupts enabled, so that its timer or an IPI wakes it.</summary>
    private void Idle()
    {
        ArmTimer(null);
        if (Svm != null) Cpu.GlobalInterruptFlag = true;
        Cpu.Flags |= Rflags.IF;
        Cpu.Activity = ActivityState.Hlt;
    }

    /// <summary>Takes every interrupt the local APIC holds: the timer expires timeouts and slices, the request IPI runs what other processors asked.</summary>
    public void ServiceInterrupts()
    {
        var apic = Apic;
        while (apic.InterruptPending) Dispatch(apic.Acknowledge());
        ExpireTimeouts();
    }

    /// <summary>
    /// An interrupt the hardware acknowledged already (VT-x's "acknowledge interrupt on exit" puts
    /// its vector in the exit interruption information): EOI and handle it, then what else is pending.
    /// </summary>
    public void TakeInterrupt(byte vector)
    {
        Dispatch(vector);
        ServiceInterrupts();
    }

    private void Dispatch(byte vector)
    {
        Apic.WriteRegister(ApicEoi, 4, 0);
        if (vector == TimerVector) TimerInterrupt();
        else if (vector == RequestVector) RunRequests();
        else Model.OnInterrupt(this, vector);
    }

    /// <summary>The timer has fired: it is armed afresh at the next dispatch; an ended slice is rotated by the run loop.</summary>
    private void TimerInterrupt() => _armedDeadline = 0;

    private void RunRequests()
    {
        while (_requests.TryDequeue(out var request)) request();
    }

    /// <summary>
    /// Asks processor <paramref name="target"/> to run <paramref name="request"/> in its kernel: at once
    /// when it is this one, else through an IPI, which also makes a guest running there exit.
    /// </summary>
    public void Request(KernelProcessor target, Action request)
    {
        if (ReferenceEquals(target, this))
        {
            request();
            return;
        }
        target._requests.Enqueue(request);
        Charge(KernelOperation.Ipi);
        Model.OnIpi(this, target, RequestVector);
        Apic.WriteRegister(ApicIcrHigh, 4, target.Apic.ApicId << 24);
        Apic.WriteRegister(ApicIcrLow, 4, RequestVector);
    }

    /// <summary>Called by the scheduler: a thread woken on another processor (or this one while idle) needs that processor to look again.</summary>
    internal void ThreadBecameReady(KernelThread thread)
    {
        var running = Model.Running;
        if (ReferenceEquals(running, this)) return;
        if (running == null)
        {
            // Outside every slice (set-up code): the machine runs the processor as soon as it is active.
            Cpu.Activity = ActivityState.Active;
            return;
        }
        if (Cpu.Activity == ActivityState.Hlt || InGuest) running.Request(this, static () => { });
    }

    /// <summary>Wakes <paramref name="thread"/> with <paramref name="status"/> at <paramref name="deadline"/> (processor cycles) unless it is woken before.</summary>
    public void AddTimeout(KernelThread thread, ulong deadline, int status)
    {
        var generation = _timeoutGeneration.TryGetValue(thread, out var g) ? g + 1 : 1;
        _timeoutGeneration[thread] = generation;
        _timeouts.Enqueue((thread, generation), (deadline, _timeoutSequence++));
        _timeoutStatus[thread] = status;
    }

    private readonly Dictionary<KernelThread, int> _timeoutStatus = new(ReferenceEqualityComparer.Instance);

    public void CancelTimeout(KernelThread thread)
    {
        if (_timeoutGeneration.TryGetValue(thread, out var g)) _timeoutGeneration[thread] = g + 1;
    }

    private void ExpireTimeouts()
    {
        while (_timeouts.TryPeek(out var entry, out var key))
        {
            if (_timeoutGeneration[entry.Thread] != entry.Generation)
            {
                _timeouts.Dequeue();
                continue;
            }
            if (key.Deadline > Cpu.Cycles) return;
            _timeouts.Dequeue();
            _timeoutGeneration[entry.Thread] = entry.Generation + 1;
            Model.OnTimeout(this, entry.Thread, _timeoutStatus[entry.Thread]);
        }
    }

    private ulong NextTimeout()
    {
        while (_timeouts.TryPeek(out var entry, out var key))
        {
            if (_timeoutGeneration[entry.Thread] == entry.Generation) return key.Deadline;
            _timeouts.Dequeue();
        }
        return ulong.MaxValue;
    }

    /// <summary>Programs the TSC-deadline timer for the earlier of the next timeout and the end of <paramref name="running"/>'s slice when others of its priority wait.</summary>
    private void ArmTimer(KernelThread? running)
    {
        var deadline = NextTimeout();
        if (running != null && Scheduler.ReadyCount > 1)
        {
            var sliceEnd = Cpu.Cycles + running.QuantumLeft;
            if (sliceEnd < deadline) deadline = sliceEnd;
        }
        if (deadline == _armedDeadline) return;
        _armedDeadline = deadline;
        // The TSC runs with the clock; a deadline already passed fires at once.
        var tsc = deadline == ulong.MaxValue ? 0 : Math.Max(1, deadline + (Cpu.TimeStampCounter - Cpu.Cycles));
        Cpu.TryWriteMsr(Msr.TscDeadline, tsc);
    }
}
