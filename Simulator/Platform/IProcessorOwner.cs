using Sim.Cpu;

namespace Sim.Platform;

/// <summary>
/// Who runs a physical processor when it is not bare metal: a kernel model, whose host software
/// (C# running as simulated threads) owns the processor and enters guests through its
/// virtualization unit. The machine still decides when the processor runs (the one furthest
/// behind goes first); the owner decides what it does with the slice. It keeps
/// <see cref="Processor.Activity"/> true to its state, so that the machine knows when the
/// processor sleeps: active while it has work, halted with interrupts enabled while idle, so that
/// an interrupt from its local APIC wakes it.
/// </summary>
public interface IProcessorOwner
{
    /// <summary>
    /// Runs host software and the guests it enters until the processor's clock reaches
    /// <paramref name="until"/>, it has nothing left to do (<see cref="StopReason.Halted"/>), or
    /// something outside asks it to stop.
    /// </summary>
    StopReason Run(Processor cpu, ulong until);
}
