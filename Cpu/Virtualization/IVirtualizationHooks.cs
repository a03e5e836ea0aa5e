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
    /// An interceptable event. <paramref name="info"/> carries its main datum (CR number, port,
    /// MSR index, vector ...), <paramref name="extra"/> a second one (size and direction of I/O,
    /// error code ...). Returns true when the unit handled the event and the instruction must not
    /// be executed further.
    /// </summary>
    bool Intercept(Processor cpu, InterceptKind kind, ulong info, ulong extra);
}
