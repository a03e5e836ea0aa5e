namespace Sim.Cpu.Bus;

/// <summary>
/// The interrupt controller in front of a processor's INTR pin. When the processor accepts a maskable
/// interrupt it runs the interrupt-acknowledge cycle, which returns the vector.
/// </summary>
public interface IInterruptSource
{
    /// <summary>Whether INTR is asserted now.</summary>
    bool InterruptPending { get; }

    /// <summary>The interrupt-acknowledge cycle: the vector of the highest-priority pending request.</summary>
    byte Acknowledge();
}
