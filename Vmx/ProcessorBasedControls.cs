namespace Sim.Vmx;

/// <summary>Primary processor-based VM-execution controls (SDM vol. 3, table 25-6).</summary>
public static class ProcessorBasedControls
{
    public const uint InterruptWindowExiting = 1u << 2;
    public const uint UseTscOffsetting = 1u << 3;
    public const uint HltExiting = 1u << 7;
    public const uint InvlpgExiting = 1u << 9;
    public const uint MwaitExiting = 1u << 10;
    public const uint RdpmcExiting = 1u << 11;
    public const uint RdtscExiting = 1u << 12;
    public const uint Cr3LoadExiting = 1u << 15;
    public const uint Cr3StoreExiting = 1u << 16;
    public const uint ActivateTertiaryControls = 1u << 17;
    public const uint Cr8LoadExiting = 1u << 19;
    public const uint Cr8StoreExiting = 1u << 20;
    public const uint UseTprShadow = 1u << 21;
    public const uint NmiWindowExiting = 1u << 22;
    public const uint MovDrExiting = 1u << 23;
    public const uint UnconditionalIoExiting = 1u << 24;
    public const uint UseIoBitmaps = 1u << 25;
    public const uint MonitorTrapFlag = 1u << 27;
    public const uint UseMsrBitmaps = 1u << 28;
    public const uint MonitorExiting = 1u << 29;
    public const uint PauseExiting = 1u << 30;
    public const uint ActivateSecondaryControls = 1u << 31;

    /// <summary>Bits 1, 4–6, 8, 13–16 and 26 are reserved to 1 (the default1 class, appendix A.3.2).</summary>
    public const uint Default1 = 0x0401E172;

    /// <summary>With the TRUE_ MSR, CR3-load and CR3-store exiting may be 0.</summary>
    public const uint TrueDefault1 = Default1 & ~(Cr3LoadExiting | Cr3StoreExiting);

    public const uint Allowed1 = Default1 | InterruptWindowExiting | UseTscOffsetting | HltExiting | InvlpgExiting | MwaitExiting
        | RdpmcExiting | RdtscExiting | Cr3LoadExiting | Cr3StoreExiting | Cr8LoadExiting | Cr8StoreExiting | UseTprShadow
        | NmiWindowExiting | MovDrExiting | UnconditionalIoExiting | UseIoBitmaps | MonitorTrapFlag | UseMsrBitmaps | MonitorExiting
        | PauseExiting | ActivateSecondaryControls;
}
