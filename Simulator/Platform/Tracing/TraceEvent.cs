namespace Sim.Platform.Tracing;

/// <summary>
/// One event of a machine's trace stream, stamped with the cycle of the processor it happened on.
/// Plain values only, so that emitting one allocates nothing; names are indices into the stream's
/// name table (<see cref="TraceStream.RegisterName"/>), 0 for none.
/// </summary>
public readonly record struct TraceEvent(
    ulong Cycle,
    int Cpu,
    TraceEventKind Kind,
    int NameId = 0,
    ulong Arg0 = 0,
    ulong Arg1 = 0,
    ulong Arg2 = 0)
{
    public static TraceEvent GuestEntry(ulong cycle, int cpu, ulong vcpu) => new(cycle, cpu, TraceEventKind.GuestEntry, 0, vcpu);

    public static TraceEvent GuestExit(ulong cycle, int cpu, ulong vcpu, ulong exitReason) => new(cycle, cpu, TraceEventKind.GuestExit, 0, vcpu, exitReason);

    public static TraceEvent KernelEnter(ulong cycle, int cpu, int operation, ulong arg = 0) => new(cycle, cpu, TraceEventKind.KernelEnter, operation, arg);

    public static TraceEvent KernelLeave(ulong cycle, int cpu, int operation, ulong result = 0) => new(cycle, cpu, TraceEventKind.KernelLeave, operation, result);

    public static TraceEvent ThreadSwitch(ulong cycle, int cpu, ulong from, ulong to) => new(cycle, cpu, TraceEventKind.ThreadSwitch, 0, from, to);

    public static TraceEvent Ipi(ulong cycle, int from, int to, byte vector) => new(cycle, from, TraceEventKind.Ipi, 0, (ulong)from, (ulong)to, vector);

    public static TraceEvent Signal(ulong cycle, int cpu, ulong source, ulong target) => new(cycle, cpu, TraceEventKind.Signal, 0, source, target);
}
