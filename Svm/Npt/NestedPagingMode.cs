namespace Sim.Svm.Npt;

/// <summary>
/// The format of the nested page tables: the host's paging mode at VMRUN (AMD APM vol. 2, 15.25.3),
/// with the table formats of chapter 5.
/// </summary>
public enum NestedPagingMode : byte
{
    /// <summary>Host EFER.LMA: four-level long-mode tables, 8-byte entries, 2-MiB and 1-GiB pages.</summary>
    LongMode,
    /// <summary>Host CR4.PAE without long mode: four PDPEs at nCR3, then two levels of 8-byte entries, 2-MiB pages.</summary>
    Pae,
    /// <summary>Legacy 32-bit tables, 4-byte entries; with host CR4.PSE, 4-MiB pages (PSE-36).</summary>
    Legacy,
}
