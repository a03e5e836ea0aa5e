namespace Sim.Cpu.Bus;

/// <summary>
/// The processor's FERR# output (SDM vol. 1, D.2): with CR0.NE = 0 a pending unmasked x87 exception is reported by
/// asserting FERR# at the next waiting x87 instruction instead of raising #MF. A PC routes it to IRQ 13 of the 8259.
/// </summary>
public interface IFpuErrorSignal
{
    /// <summary>FERR# is asserted.</summary>
    void AssertFerr();
}
