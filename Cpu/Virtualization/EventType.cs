namespace Sim.Cpu.Virtualization;

/// <summary>How an event reaches the guest: the kinds both VMX's interruption types (SDM vol. 3, 25.8.3) and SVM's EVENTINJ types (APM vol. 2, 15.20) distinguish; each unit maps them to its own numbering.</summary>
public enum EventType : byte
{
    ExternalInterrupt,
    Nmi,
    HardwareException,
    /// <summary>INT n.</summary>
    SoftwareInterrupt,
    /// <summary>INT1 (ICEBP).</summary>
    PrivilegedSoftwareException,
    /// <summary>INT3, INTO.</summary>
    SoftwareException,
}
