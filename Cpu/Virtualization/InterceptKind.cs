namespace Sim.Cpu.Virtualization;

/// <summary>
/// The guest events a virtualization unit (VMX or SVM) can intercept; each kind's data is the
/// payload of the same name in <see cref="Intercept"/>. For events caused by an instruction,
/// <see cref="Intercept.Instruction"/> describes it and <see cref="Processor.Rip"/> still points at it.
/// </summary>
public enum InterceptKind : byte
{
    /// <summary>CPUID; <see cref="Intercept.Cpuid"/>.</summary>
    Cpuid,
    Hlt,
    /// <summary>INVLPG; <see cref="Intercept.LinearAddress"/>.</summary>
    Invlpg,
    Rdtsc,
    Rdtscp,
    /// <summary>RDPMC; <see cref="Intercept.Counter"/>.</summary>
    Rdpmc,
    /// <summary>RDMSR; <see cref="Intercept.Msr"/>.</summary>
    Rdmsr,
    /// <summary>WRMSR; <see cref="Intercept.Msr"/>.</summary>
    Wrmsr,
    /// <summary>IN, INS; <see cref="Intercept.Io"/>.</summary>
    IoIn,
    /// <summary>OUT, OUTS; <see cref="Intercept.Io"/>.</summary>
    IoOut,
    /// <summary>MOV from CR, SMSW (before its memory operand is written); <see cref="Intercept.ControlRegisterRead"/>.</summary>
    CrRead,
    /// <summary>MOV to CR, CLTS, LMSW; <see cref="Intercept.ControlRegisterWrite"/>, whose value a declining unit may change.</summary>
    CrWrite,
    /// <summary>MOV DR, offered before its #GP and #UD faults; <see cref="Intercept.DebugRegisterAccess"/>.</summary>
    DrAccess,
    Pause,
    Wbinvd,
    Invd,
    Xsetbv,
    /// <summary>LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR; the instruction tells which; <see cref="Intercept.DescriptorTableAccess"/>.</summary>
    DescriptorTable,
    /// <summary>An exception about to be delivered (CR2 not yet written for #PF); <see cref="Intercept.Exception"/>.</summary>
    Exception,
    /// <summary>INTR is asserted and not blocked (by IF unless <see cref="Processor.InterruptFlagIgnored"/>).</summary>
    ExternalInterrupt,
    Nmi,
    TripleFault,

    /// <summary>An instruction of the VMX or SVM family (VMXON, VMRUN ...), which the unit implements; <see cref="Intercept.VirtualizationInstruction"/>.</summary>
    VirtualizationInstruction,

    Pushf,
    Popf,
    Iret,
    /// <summary>INT n; <see cref="Intercept.Vector"/>.</summary>
    SoftwareInterrupt,
    /// <summary>INT1 (ICEBP, F1).</summary>
    Icebp,
    Rsm,
    /// <summary>MONITOR; <see cref="Intercept.LinearAddress"/>.</summary>
    Monitor,
    Mwait,
    /// <summary>INVPCID; <see cref="Intercept.InvpcidType"/>.</summary>
    Invpcid,
    /// <summary>A task switch; <see cref="Intercept.TaskSwitch"/>.</summary>
    TaskSwitch,
    /// <summary>
    /// The second-level translator refused an access (EPT violation or misconfiguration, nested
    /// page fault); raised at the instruction boundary after the instruction was abandoned.
    /// </summary>
    SecondLevelFault,
    /// <summary>
    /// An instruction boundary while <see cref="Processor.WatchEventWindows"/> is set or the clock has
    /// reached <see cref="Processor.EventDeadline"/>: interrupt and NMI windows, virtual interrupts,
    /// the preemption timer. Called before NMI and INTR are considered.
    /// </summary>
    EventWindow,

    /// <summary>INIT, not blocked (<see cref="Processor.InitBlocked"/>, GIF); declining performs <see cref="Processor.Init"/>.</summary>
    Init,

    Rdrand,
    Rdseed,

    /// <summary>A startup IPI reaching a processor in the wait-for-SIPI state; <see cref="Intercept.Vector"/>.</summary>
    StartupIpi,

    /// <summary>XSAVES, offered after the #UD checks and before the CPL check (a unit raises #UD or exits; the instruction mask is EDX:EAX).</summary>
    Xsaves,
    /// <summary>XRSTORS, offered like <see cref="Xsaves"/>.</summary>
    Xrstors,
}
