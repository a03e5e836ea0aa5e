namespace Sim.Platform.Apic;

/// <summary>
/// One interrupt message on the system bus, as an I/O APIC redirection entry, a local APIC's ICR or an
/// MSI sends it (SDM vol. 3, 11.6.1, 11.12.10; 82093AA datasheet 3.2.4): the vector, how it is
/// delivered, and to whom. <paramref name="Destination"/> is an APIC ID in physical mode or a
/// message destination address matched against each LDR in logical mode (8 bits in xAPIC mode,
/// 32 in x2APIC mode). A level-triggered fixed interrupt is acknowledged by an EOI broadcast.
/// </summary>
public readonly record struct InterruptMessage(
    byte Vector,
    DeliveryMode Mode,
    bool LogicalDestination,
    uint Destination,
    bool LevelTriggered);
