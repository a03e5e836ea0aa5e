namespace Sim.Svm;

/// <summary>
/// The VMCB clean bits (AMD APM vol. 2, 15.15.3, table 15-9): a set bit tells VMRUN that the
/// group's fields are unchanged since the last VMRUN of this VMCB on this processor, so a cached
/// copy may be used.
/// </summary>
[Flags]
public enum VmcbCleanBits : uint
{
    None = 0,

    /// <summary>Intercept vectors, TSC_OFFSET, pause-filter count and threshold.</summary>
    I = 1 << 0,

    /// <summary>IOPM_BASE_PA, MSRPM_BASE_PA.</summary>
    Iopm = 1 << 1,

    Asid = 1 << 2,

    /// <summary>V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_INTR_VECTOR.</summary>
    Tpr = 1 << 3,

    /// <summary>NP_ENABLE, N_CR3, G_PAT.</summary>
    Np = 1 << 4,

    /// <summary>CR0, CR3, CR4, EFER.</summary>
    CrX = 1 << 5,

    /// <summary>DR6, DR7.</summary>
    DrX = 1 << 6,

    /// <summary>GDTR, IDTR.</summary>
    Dt = 1 << 7,

    /// <summary>CS, DS, SS, ES, CPL.</summary>
    Seg = 1 << 8,

    Cr2 = 1 << 9,

    /// <summary>DbgCtlMsr, br_from/to, lastint_from/to (LBR virtualization is not offered, so nothing is cached).</summary>
    Lbr = 1 << 10,

    Avic = 1 << 11,
}
