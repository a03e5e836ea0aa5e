namespace Sim.Platform;

/// <summary>Why <see cref="Machine.Run"/> ended.</summary>
public enum RunOutcome
{
    /// <summary>The guest wrote to QEMU's isa-debug-exit port.</summary>
    DebugExit,

    /// <summary>The guest wrote "Shutdown" to the Bochs shutdown port.</summary>
    BochsShutdown,

    /// <summary>The bootstrap processor entered the shutdown state (triple fault).</summary>
    TripleFault,

    /// <summary>Every processor is halted (or waits for a SIPI) and nothing can wake one.</summary>
    HaltedForever,

    /// <summary>The configured number of instructions has retired.</summary>
    InstructionLimit,

    /// <summary>The guest reset the machine (port 0x92, 0xCF9 or the keyboard controller).</summary>
    Reset,

    /// <summary>The guest entered ACPI S5 (soft off) through PM1a_CNT.</summary>
    PowerOff,

    /// <summary>The host stopped the run (<see cref="Machine.Stop"/>: a signal, an output that cannot be written).</summary>
    Stopped,

    /// <summary>The host software that owns the processors (a kernel model's scenario, a VMM) ended the run with its status.</summary>
    Finished,
}
