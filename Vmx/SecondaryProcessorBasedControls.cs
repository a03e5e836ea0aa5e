namespace Sim.Vmx;

/// <summary>Secondary processor-based VM-execution controls (SDM vol. 3, table 25-7).</summary>
public static class SecondaryProcessorBasedControls
{
    public const uint VirtualizeApicAccesses = 1u << 0;
    public const uint EnableEpt = 1u << 1;
    public const uint DescriptorTableExiting = 1u << 2;
    public const uint EnableRdtscp = 1u << 3;
    public const uint VirtualizeX2ApicMode = 1u << 4;
    public const uint EnableVpid = 1u << 5;
    public const uint WbinvdExiting = 1u << 6;
    public const uint UnrestrictedGuest = 1u << 7;
    public const uint ApicRegisterVirtualization = 1u << 8;
    public const uint VirtualInterruptDelivery = 1u << 9;
    public const uint PauseLoopExiting = 1u << 10;
    public const uint RdrandExiting = 1u << 11;
    public const uint EnableInvpcid = 1u << 12;
    public const uint EnableVmFunctions = 1u << 13;
    public const uint VmcsShadowing = 1u << 14;
    public const uint RdseedExiting = 1u << 16;
    public const uint EnableXsavesXrstors = 1u << 20;

    /// <summary>
    /// What this processor offers: the core has INVPCID, RDTSCP, RDRAND, RDSEED and XSAVES/XRSTORS (with the
    /// XSS-exiting bitmap), but no APIC virtualization, so those controls stay 0.
    /// </summary>
    public const uint Allowed1 = EnableEpt | DescriptorTableExiting | EnableRdtscp | EnableVpid | WbinvdExiting | UnrestrictedGuest
        | RdrandExiting | EnableInvpcid | RdseedExiting | EnableXsavesXrstors;
}
