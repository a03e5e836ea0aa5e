namespace Sim.Cpu.Virtualization;

/// <summary>How an event reaches the guest, numbered as the VMX interruption-information type (SDM vol. 3, 25.8.3).</summary>
public enum EventType : byte
{
    ExternalInterrupt = 0,
    Nmi = 2,
    HardwareException = 3,
    /// <summary>INT n.</summary>
    SoftwareInterrupt = 4,
    /// <summary>INT1 (ICEBP).</summary>
    PrivilegedSoftwareException = 5,
    /// <summary>INT3, INTO.</summary>
    SoftwareException = 6,
}
