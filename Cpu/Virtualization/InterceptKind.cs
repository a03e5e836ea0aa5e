namespace Sim.Cpu.Virtualization;

/// <summary>
/// The guest events a virtualization unit (VMX or SVM) can intercept. For events caused by an
/// instruction, <see cref="Processor.CurrentInstruction"/> describes it during the call and
/// <see cref="Processor.Rip"/> still points at it.
/// </summary>
public enum InterceptKind : byte
{
    /// <summary>CPUID; info = EAX, extra = ECX.</summary>
    Cpuid,
    Hlt,
    /// <summary>INVLPG; info = the linear address.</summary>
    Invlpg,
    Rdtsc,
    Rdtscp,
    /// <summary>RDPMC; info = ECX.</summary>
    Rdpmc,
    /// <summary>RDMSR; info = ECX.</summary>
    Rdmsr,
    /// <summary>WRMSR; info = ECX, extra = EDX:EAX.</summary>
    Wrmsr,
    /// <summary>IN, INS; info = port, extra = size in bytes, | 0x100 for INS.</summary>
    IoIn,
    /// <summary>OUT, OUTS; info = port, extra = size in bytes, | 0x100 for OUTS.</summary>
    IoOut,
    /// <summary>MOV from CR; info = CR number, extra = destination GPR. SMSW: info = 0x100 (CR0), before its memory operand is written.</summary>
    CrRead,
    /// <summary>
    /// MOV to CR, CLTS, LMSW; info = CR number (| 0x100 for LMSW, | 0x200 for CLTS), extra = the
    /// new value. The unit may change the value that is written through <see cref="Processor.InterceptValue"/>.
    /// </summary>
    CrWrite,
    /// <summary>
    /// MOV DR, offered before its #GP (CPL &gt; 0) and #UD (CR4.DE with DR4/DR5) faults; info = the DR
    /// number as encoded (| 0x100 for a write, | 0x200 when one of those faults follows if the unit
    /// declines), extra = the GPR number.
    /// </summary>
    DrAccess,
    Pause,
    Wbinvd,
    Invd,
    Xsetbv,
    /// <summary>LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR; <see cref="Processor.CurrentInstruction"/> tells which; extra = the selector for LLDT and LTR.</summary>
    DescriptorTable,
    /// <summary>
    /// An exception about to be delivered; info = vector (| 0x100 when raised by INT3 or INTO, |
    /// 0x200 for INT1), extra = error code. CR2 is not yet written for #PF:
    /// <see cref="Processor.PendingFaultAddress"/> holds the address; <see cref="Processor.EventBeingDelivered"/>
    /// is set when the exception happened while an earlier event was being delivered.
    /// </summary>
    Exception,
    /// <summary>INTR is asserted and not blocked (by IF unless <see cref="Processor.InterruptFlagIgnored"/>).</summary>
    ExternalInterrupt,
    Nmi,
    TripleFault,

    /// <summary>An instruction of the VMX or SVM family (VMXON, VMRUN ...), which the unit implements; info = its Iced <c>Code</c>.</summary>
    VirtualizationInstruction,

    Pushf,
    Popf,
    Iret,
    /// <summary>INT n; info = n.</summary>
    SoftwareInterrupt,
    /// <summary>INT1 (ICEBP, F1).</summary>
    Icebp,
    Rsm,
    Monitor,
    Mwait,
    /// <summary>INVPCID; info = type.</summary>
    Invpcid,
    /// <summary>A task switch; info = the new TSS selector, extra = source (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT).</summary>
    TaskSwitch,
    /// <summary>
    /// The second-level translator refused an access (EPT violation or misconfiguration, nested
    /// page fault); raised at the instruction boundary after the instruction was abandoned.
    /// <see cref="Processor.EventBeingDelivered"/> is set when it happened during event delivery.
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

    /// <summary>A startup IPI reaching a processor in the wait-for-SIPI state; info = its vector.</summary>
    StartupIpi,
}
