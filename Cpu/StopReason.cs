namespace Sim.Cpu;

/// <summary>Why <see cref="Processor.Run"/> returned.</summary>
public enum StopReason : byte
{
    /// <summary>The processor's clock reached the limit it was given.</summary>
    CycleLimit,

    /// <summary>HLT (or a halted state) with nothing to wake it before the limit.</summary>
    Halted,

    /// <summary>Triple fault: the processor entered the shutdown state.</summary>
    Shutdown,

    /// <summary>Something outside the processor (a device, the machine) asked it to stop.</summary>
    StopRequested,

    /// <summary>
    /// A virtualization unit ended the guest's slice with a VM exit on a host-owned processor
    /// (<see cref="Processor.HostOwned"/>): the host state is loaded, nothing at the host RIP ran,
    /// and the exit is in <see cref="Processor.LastGuestExit"/>.
    /// </summary>
    VmExit,
}
