namespace Sim.Svm;

/// <summary>How an SVM instruction ended when a kernel model executes it through the unit's C# API.</summary>
public enum SvmResult
{
    /// <summary>The instruction completed; for VMRUN the guest is loaded (a #VMEXIT may already have followed, see <see cref="SvmUnit.InGuest"/>).</summary>
    Success,

    /// <summary>VMRUN found illegal guest state: #VMEXIT with VMEXIT_INVALID, the host goes on after the VMRUN.</summary>
    VmexitInvalid,

    /// <summary>The instruction raised #UD (SVM disabled, SKINIT, VMMCALL outside a guest, real or virtual-8086 mode).</summary>
    UndefinedOpcode,

    /// <summary>The instruction raised #GP(0) (CPL above 0, rAX not 4-KiB aligned or beyond the physical-address width).</summary>
    GeneralProtection,
}
