namespace Sim.Svm;

/// <summary>The SVM model-specific registers (AMD APM vol. 2, 15.30).</summary>
public static class SvmMsr
{
    /// <summary>VM_CR: DPD (0), R_INIT (1), DIS_A20M (2), LOCK (3), SVMDIS (4).</summary>
    public const uint VmCr = 0xC0010114;

    /// <summary>VM_HSAVE_PA: the 4-KiB-aligned physical address of the host save area.</summary>
    public const uint VmHsavePa = 0xC0010117;

    public const ulong VmCrDpd = 1 << 0;
    public const ulong VmCrRInit = 1 << 1;
    public const ulong VmCrDisA20M = 1 << 2;
    public const ulong VmCrLock = 1 << 3;
    public const ulong VmCrSvmDis = 1 << 4;
}
