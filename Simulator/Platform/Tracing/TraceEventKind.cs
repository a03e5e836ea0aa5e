namespace Sim.Platform.Tracing;

/// <summary>What a <see cref="TraceEvent"/> records; the meaning of its arguments follows from it.</summary>
public enum TraceEventKind : byte
{
    /// <summary>A guest was entered (VM entry, VMRUN). Arg0: the virtual CPU's id as the kernel numbers it.</summary>
    GuestEntry,

    /// <summary>A guest's slice ended with a VM exit. Arg0: the virtual CPU's id; Arg1: the exit reason (VT-x basic reason or SVM EXITCODE).</summary>
    GuestExit,

    /// <summary>A kernel operation began (a system call, an exit's handling). NameId: the operation.</summary>
    KernelEnter,

    /// <summary>The kernel operation of the same NameId ended.</summary>
    KernelLeave,

    /// <summary>The processor switched threads. Arg0: from; Arg1: to (the kernel's thread ids).</summary>
    ThreadSwitch,

    /// <summary>An inter-processor interrupt. Arg0: the sending CPU; Arg1: the target CPU; Arg2: the vector.</summary>
    Ipi,

    /// <summary>A signal (semaphore up, notification). Arg0: the source; Arg1: the target (the kernel's object ids).</summary>
    Signal,
}
