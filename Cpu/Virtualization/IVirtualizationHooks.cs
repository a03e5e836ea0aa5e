namespace Sim.Cpu.Virtualization;

/// <summary>
/// Implemented by a virtualization unit (VMX in Vmx/, SVM in Svm/) attached to a processor. The
/// processor calls it at each interceptable event before acting on it; the unit either declines
/// (the processor goes on as without virtualization) or handles the event itself, for instance by
/// performing a VM exit, which replaces the processor's state with the host's.
/// </summary>
public interface IVirtualizationHooks
{
    /// <summary>
    /// An interceptable event with its data (<see cref="Virtualization.Intercept"/>). Returns true when
    /// the unit handled the event: the instruction then does not go on. It counts as retired only
    /// if the unit called <see cref="Processor.CompleteInstruction"/>; otherwise a fault the unit
    /// raised through the processor (for instance while reading an operand) is delivered, and if
    /// there is none the instruction simply did not happen (a VM exit replaced the state). A unit
    /// that declines a control-register write may change the value written in the intercept.
    /// </summary>
    bool Intercept(Processor cpu, ref Intercept intercept);

    /// <summary>RDMSR of an MSR the core does not implement (IA32_VMX_*, VM_CR, VM_HSAVE_PA ...); false raises #GP(0).</summary>
    bool TryReadMsr(Processor cpu, uint index, out ulong value);

    /// <summary>WRMSR of an MSR the core does not implement; false raises #GP(0).</summary>
    bool TryWriteMsr(Processor cpu, uint index, ulong value);
}
