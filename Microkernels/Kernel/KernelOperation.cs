namespace Sim.Microkernels.Kernel;

/// <summary>What host software does that the cost model charges, and what the trace names as a kernel operation.</summary>
public enum KernelOperation : byte
{
    SyscallEntry,
    SyscallExit,
    Ipc,
    ThreadSwitch,
    AddressSpaceSwitch,
    UtcbWord,
    Ipi,
    Signal,
}
