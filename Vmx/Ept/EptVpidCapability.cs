namespace Sim.Vmx.Ept;

/// <summary>
/// IA32_VMX_EPT_VPID_CAP (MSR 48CH, SDM vol. 3, appendix A.10): what this processor's EPT and VPID
/// support. The EPT walker, the VM-entry checks on the EPTP and INVEPT/INVVPID all read it here.
/// </summary>
public static class EptVpidCapability
{
    public const ulong ExecuteOnly = 1UL << 0;
    public const ulong PageWalkLength4 = 1UL << 6;
    public const ulong UncacheableStructures = 1UL << 8;
    public const ulong WriteBackStructures = 1UL << 14;
    public const ulong Pde2MbPages = 1UL << 16;
    public const ulong Pdpte1GbPages = 1UL << 17;
    public const ulong Invept = 1UL << 20;
    public const ulong AccessedDirtyFlags = 1UL << 21;
    public const ulong AdvancedExitInformation = 1UL << 22;
    public const ulong InveptSingleContext = 1UL << 25;
    public const ulong InveptAllContext = 1UL << 26;
    public const ulong Invvpid = 1UL << 32;
    public const ulong InvvpidIndividualAddress = 1UL << 40;
    public const ulong InvvpidSingleContext = 1UL << 41;
    public const ulong InvvpidAllContext = 1UL << 42;
    public const ulong InvvpidSingleContextRetainingGlobals = 1UL << 43;

    /// <summary>The MSR's value: 4-level EPT with execute-only pages, 2-MiB and 1-GiB pages, A/D flags, advanced exit information, every INVEPT and INVVPID type.</summary>
    public const ulong Value = ExecuteOnly | PageWalkLength4 | UncacheableStructures | WriteBackStructures | Pde2MbPages
        | Pdpte1GbPages | Invept | AccessedDirtyFlags | AdvancedExitInformation | InveptSingleContext | InveptAllContext
        | Invvpid | InvvpidIndividualAddress | InvvpidSingleContext | InvvpidAllContext | InvvpidSingleContextRetainingGlobals;
}
