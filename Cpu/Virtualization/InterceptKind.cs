namespace Sim.Cpu.Virtualization;

/// <summary>The guest events a virtualization unit (VMX or SVM) can intercept.</summary>
public enum InterceptKind : byte
{
    Cpuid,
    Hlt,
    Invlpg,
    Rdtsc,
    Rdtscp,
    Rdpmc,
    Rdmsr,
    Wrmsr,
    IoIn,
    IoOut,
    CrRead,
    CrWrite,
    DrAccess,
    Pause,
    Wbinvd,
    Invd,
    Xsetbv,
    DescriptorTable,
    Exception,
    ExternalInterrupt,
    Nmi,
    TripleFault,

    /// <summary>An instruction of the VMX or SVM family (VMXON, VMRUN ...), which the unit implements.</summary>
    VirtualizationInstruction,
}
