using Iced.Intel;

namespace Sim.Cpu.Virtualization;

/// <summary>
/// One interceptable event as the processor offers it to its virtualization unit: the kind, the
/// instruction that caused it (for the kinds an instruction causes; default otherwise), the event
/// whose delivery it interrupted (if any), and the payload of its kind. The payload properties of
/// other kinds are default. Everything the unit needs to know about the event is here; the unit
/// answers through the return value of <see cref="IVirtualizationHooks.Intercept"/> and, for a
/// control-register write it declines, through <see cref="ControlRegisterWrite"/>.
/// </summary>
public struct Intercept
{
    public Intercept(InterceptKind kind) => Kind = kind;

    public InterceptKind Kind { get; }

    /// <summary>The instruction behind an instruction's intercept, as decoded; RIP still points at it.</summary>
    public InterceptedInstruction Instruction { get; internal set; }

    /// <summary>The event being delivered when this one happened (an exception, a second-level fault or a task switch during delivery).</summary>
    public DeliveredEvent? EventInDelivery { get; internal set; }

    /// <summary><see cref="InterceptKind.Cpuid"/>.</summary>
    public CpuidIntercept Cpuid { get; init; }

    /// <summary><see cref="InterceptKind.Rdmsr"/>, <see cref="InterceptKind.Wrmsr"/>.</summary>
    public MsrIntercept Msr { get; init; }

    /// <summary><see cref="InterceptKind.IoIn"/>, <see cref="InterceptKind.IoOut"/>.</summary>
    public IoIntercept Io { get; init; }

    /// <summary><see cref="InterceptKind.CrRead"/>.</summary>
    public ControlRegisterRead ControlRegisterRead { get; init; }

    /// <summary><see cref="InterceptKind.CrWrite"/>; a unit that declines may set another value to be written.</summary>
    public ControlRegisterWrite ControlRegisterWrite { get; set; }

    /// <summary><see cref="InterceptKind.DrAccess"/>.</summary>
    public DebugRegisterAccess DebugRegisterAccess { get; init; }

    /// <summary><see cref="InterceptKind.DescriptorTable"/>.</summary>
    public DescriptorTableAccess DescriptorTableAccess { get; init; }

    /// <summary><see cref="InterceptKind.Exception"/>.</summary>
    public ExceptionIntercept Exception { get; init; }

    /// <summary><see cref="InterceptKind.TaskSwitch"/>.</summary>
    public TaskSwitchIntercept TaskSwitch { get; init; }

    /// <summary><see cref="InterceptKind.Invlpg"/>: the linear address; <see cref="InterceptKind.Monitor"/>: the monitored address (RAX as an offset in DS).</summary>
    public ulong LinearAddress { get; init; }

    /// <summary><see cref="InterceptKind.SoftwareInterrupt"/>: n of INT n; <see cref="InterceptKind.StartupIpi"/>: the SIPI's vector.</summary>
    public byte Vector { get; init; }

    /// <summary><see cref="InterceptKind.Rdpmc"/>: the counter (ECX).</summary>
    public uint Counter { get; init; }

    /// <summary><see cref="InterceptKind.Invpcid"/>: the INVPCID type (the register operand).</summary>
    public ulong InvpcidType { get; init; }

    /// <summary><see cref="InterceptKind.VirtualizationInstruction"/>: which one.</summary>
    public Code VirtualizationInstruction { get; init; }
}
