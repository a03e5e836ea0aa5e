namespace Sim.Microkernels.Nova;

/// <summary>NOVA's synthetic VM-exit portals (alex-ab/NOVA r10: <c>NUM_VMI</c> = 256 and the <c>VM_EXIT_*</c> numbers).</summary>
public static class NovaExit
{
    public const uint PortalCount = 256;

    /// <summary>SVM nested page fault (exit code 400H) and the SVM vTLB's guest-physical miss.</summary>
    public const uint Npt = PortalCount - 4;

    /// <summary>SVM VMRUN with invalid guest state (exit code −1).</summary>
    public const uint InvalidState = PortalCount - 3;

    public const uint Startup = PortalCount - 2;

    public const uint Recall = PortalCount - 1;

    /// <summary>VMX exit reason 33, VM-entry failure due to invalid guest state.</summary>
    public const uint VmxInvalidGuestState = 33;

    /// <summary>VMX exit reason 48, EPT violation.</summary>
    public const uint VmxEptViolation = 48;
}
