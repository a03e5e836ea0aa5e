using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Timing;
using Sim.Platform;
using Sim.Platform.Tracing;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// What every kernel model shares: the machine it owns, one <see cref="KernelProcessor"/> per
/// physical processor, its kernel memory, its threads, and what the cost model charges for its
/// operations. A model takes over every processor of the machine at construction.
/// </summary>
public abstract class KernelModel
{
    /// <summary>The RAM window at the top of memory that the kernel keeps for itself.</summary>
    public const ulong DefaultKernelMemorySize = 8UL << 20;

    private readonly List<KernelThread> _threads = new();
    private readonly List<(KernelThread Thread, Exception Fault)> _faults = new();

    protected KernelModel(Machine machine, ulong kernelMemorySize = DefaultKernelMemorySize)
    {
        ArgumentNullException.ThrowIfNull(machine);
        Machine = machine;
        Vendor = machine.Config.Vendor;
        var ram = machine.Memory.RamSize;
        if (kernelMemorySize + HostEnvironment.AreaSize >= ram / 2) throw new ArgumentException("the machine has too little RAM for the kernel's memory");
        var hostArea = ram - HostEnvironment.AreaSize;
        Memory = new KernelMemory(machine.Memory, hostArea - kernelMemorySize, kernelMemorySize);
        HostEnvironment.WriteTables(machine.Memory, hostArea);
        var processors = new KernelProcessor[machine.Processors.Count];
        for (var i = 0; i < processors.Length; i++)
        {
            var cpu = machine.Processors[i];
            var host = HostEnvironment.Enter(cpu, hostArea, Vendor);
            processors[i] = new KernelProcessor(this, i, cpu, machine.LocalApics[i],
                Vendor == CpuVendor.Intel ? machine.VmxUnits[i] : null,
                Vendor == CpuVendor.Amd ? machine.SvmUnits[i] : null, host);
            // Idle until there is work: halted with interrupts enabled, so that an IPI or the timer wakes it.
            cpu.Flags |= Rflags.IF;
            cpu.Activity = ActivityState.Hlt;
            machine.SetOwner(i, processors[i]);
        }
        Processors = processors;
    }

    public Machine Machine { get; }

    public CpuVendor Vendor { get; }

    public KernelMemory Memory { get; }

    public IReadOnlyList<KernelProcessor> Processors { get; }

    /// <summary>The processor in a slice now, or null outside every slice.</summary>
    public KernelProcessor? Running { get; internal set; }

    /// <summary>The thread running now, or null outside every slice.</summary>
    public KernelThread? CurrentThread => Running?.Current;

    public IReadOnlyList<KernelThread> Threads => _threads;

    /// <summary>Host threads whose body threw: a defect of host software, reported by the runner.</summary>
    public IReadOnlyList<(KernelThread Thread, Exception Fault)> Faults => _faults;

    /// <summary>Gives <paramref name="thread"/> its id and binds it to <paramref name="processor"/>; it runs once made ready.</summary>
    public T Register<T>(T thread, KernelProcessor processor) where T : KernelThread
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (thread.Id >= 0) throw new InvalidOperationException($"thread {thread.Name} is registered already");
        thread.Id = _threads.Count;
        thread.Processor = processor;
        _threads.Add(thread);
        return thread;
    }

    /// <summary>Cycles the cost model charges for one <paramref name="operation"/>.</summary>
    public ulong CostOf(KernelOperation operation) => operation switch
    {
        KernelOperation.SyscallEntry => Costs.SyscallEntry,
        KernelOperation.SyscallExit => Costs.SyscallExit,
        KernelOperation.Ipc => Costs.Ipc,
        KernelOperation.ThreadSwitch => Costs.ThreadSwitch,
        KernelOperation.AddressSpaceSwitch => Costs.AddressSpaceSwitch,
        KernelOperation.UtcbWord => Costs.UtcbWord,
        KernelOperation.Ipi => Costs.IpiDelivery,
        KernelOperation.Signal => Costs.SignalDelivery,
        _ => 0,
    };

    /// <summary>The machine's cost model, which the units charge from too.</summary>
    public CostModel Costs => Machine.Config.Costs;

    /// <summary>The machine's trace stream; the kernel emits only while someone listens.</summary>
    public TraceStream Trace => Machine.Trace;

    internal void ThreadFaulted(HostThread thread, Exception fault) => _faults.Add((thread, fault));

    /// <summary>An interrupt vector the shared machinery does not handle.</summary>
    protected internal virtual void OnInterrupt(KernelProcessor processor, byte vector)
    {
    }

    /// <summary>A timeout set with <see cref="KernelProcessor.AddTimeout"/> expired: by default the thread is woken with the status.</summary>
    protected internal virtual void OnTimeout(KernelProcessor processor, KernelThread thread, int status)
    {
        thread.BlockedOn?.Forget(thread);
        thread.Wake(status);
    }

    protected internal virtual void OnThreadSwitch(KernelProcessor processor, KernelThread? from, KernelThread to)
    {
        if (Trace.Enabled) Trace.Emit(TraceEvent.ThreadSwitch(processor.Cpu.Cycles, processor.Index, (ulong)(from?.Id ?? -1), (ulong)to.Id));
    }

    protected internal virtual void OnIpi(KernelProcessor from, KernelProcessor to, byte vector)
    {
        if (Trace.Enabled) Trace.Emit(TraceEvent.Ipi(from.Cpu.Cycles, from.Index, to.Index, vector));
    }
}
