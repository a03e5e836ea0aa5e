using Sim.Cpu.Virtualization;

namespace Sim.Vmx;

/// <summary>The interruption-type field (bits 10:8) of the VM-entry and VM-exit interruption information and the IDT-vectoring information (SDM vol. 3, 25.8.3, 28.2.2–28.2.4).</summary>
public static class VmxInterruptionType
{
    public const uint ExternalInterrupt = 0, Nmi = 2, HardwareException = 3, SoftwareInterrupt = 4, PrivilegedSoftwareException = 5, SoftwareException = 6, OtherEvent = 7;

    public static uint Of(EventType type) => type switch
    {
        EventType.ExternalInterrupt => ExternalInterrupt,
        EventType.Nmi => Nmi,
        EventType.HardwareException => HardwareException,
        EventType.SoftwareInterrupt => SoftwareInterrupt,
        EventType.PrivilegedSoftwareException => PrivilegedSoftwareException,
        _ => SoftwareException,
    };

    /// <summary>The event type of an interruption-type field value; 1 (reserved) and 7 (other event, MTF) have none.</summary>
    public static EventType? ToEventType(uint type) => type switch
    {
        ExternalInterrupt => EventType.ExternalInterrupt,
        Nmi => EventType.Nmi,
        HardwareException => EventType.HardwareException,
        SoftwareInterrupt => EventType.SoftwareInterrupt,
        PrivilegedSoftwareException => EventType.PrivilegedSoftwareException,
        SoftwareException => EventType.SoftwareException,
        _ => null,
    };
}
