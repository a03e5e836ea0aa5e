namespace Sim.Vmx;

/// <summary>VM-entry controls (SDM vol. 3, table 25-15).</summary>
public static class VmEntryControls
{
    public const uint LoadDebugControls = 1u << 2;
    public const uint Ia32eModeGuest = 1u << 9;
    public const uint EntryToSmm = 1u << 10;
    public const uint DeactivateDualMonitorTreatment = 1u << 11;
    public const uint LoadIa32PerfGlobalCtrl = 1u << 13;
    public const uint LoadIa32Pat = 1u << 14;
    public const uint LoadIa32Efer = 1u << 15;

    /// <summary>Bits 0–8 and 12 are reserved to 1.</summary>
    public const uint Default1 = 0x000011FF;

    /// <summary>With the TRUE_ MSR, "load debug controls" may be 0.</summary>
    public const uint TrueDefault1 = Default1 & ~LoadDebugControls;

    public const uint Allowed1 = Default1 | Ia32eModeGuest | LoadIa32Pat | LoadIa32Efer;
}
