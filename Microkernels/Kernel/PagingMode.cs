namespace Sim.Microkernels.Kernel;

/// <summary>The page-table formats of SDM vol. 3: 32-bit (4.3), PAE (4.4) and 4-level (4.5).</summary>
public enum PagingMode
{
    Bits32,
    Pae,
    FourLevel,
}
