namespace Sim.Vmx;

/// <summary>VM-exit controls (SDM vol. 3, table 25-13).</summary>
public static class VmExitControls
{
    public const uint SaveDebugControls = 1u << 2;
    public const uint HostAddressSpaceSize = 1u << 9;
    public const uint LoadIa32PerfGlobalCtrl = 1u << 12;
    public const uint AcknowledgeInterruptOnExit = 1u << 15;
    public const uint SaveIa32Pat = 1u << 18;
    public const uint LoadIa32Pat = 1u << 19;
    public const uint SaveIa32Efer = 1u << 20;
    public const uint LoadIa32Efer = 1u << 21;
    public const uint SaveVmxPreemptionTimerValue = 1u << 22;

    /// <summary>Bits 0–8, 10, 11, 13, 14, 16 and 17 are reserved to 1.</summary>
    public const uint Default1 = 0x00036DFF;

    /// <summary>With the TRUE_ MSR, "save debug controls" may be 0.</summary>
    public const uint TrueDefault1 = Default1 & ~SaveDebugControls;

    public const uint Allowed1 = Default1 | HostAddressSpaceSize | AcknowledgeInterruptOnExit | SaveIa32Pat | LoadIa32Pat | SaveIa32Efer
        | LoadIa32Efer | SaveVmxPreemptionTimerValue;
}
