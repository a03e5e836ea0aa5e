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
}
