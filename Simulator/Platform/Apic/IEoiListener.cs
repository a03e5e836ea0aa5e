namespace Sim.Platform.Apic;

/// <summary>
/// An I/O APIC hears the EOI broadcast a local APIC sends when software ends a level-triggered
/// interrupt (SDM vol. 3, 11.8.5), and clears the remote IRR of its entries with that vector.
/// </summary>
public interface IEoiListener
{
    void EndOfInterrupt(byte vector);
}
