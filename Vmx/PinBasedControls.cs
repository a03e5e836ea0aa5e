namespace Sim.Vmx;

/// <summary>Pin-based VM-execution controls (SDM vol. 3, table 25-5).</summary>
public static class PinBasedControls
{
    public const uint ExternalInterruptExiting = 1u << 0;
    public const uint NmiExiting = 1u << 3;
    public const uint VirtualNmis = 1u << 5;
    public const uint ActivateVmxPreemptionTimer = 1u << 6;
    public const uint ProcessPostedInterrupts = 1u << 7;

    /// <summary>Bits 1, 2 and 4 are reserved to 1.</summary>
    public const uint Default1 = 0x16;

    public const uint Allowed1 = Default1 | ExternalInterruptExiting | NmiExiting | VirtualNmis | ActivateVmxPreemptionTimer;
}
