namespace Sim.Svm;

/// <summary>
/// The illegal guest-state combinations for which VMRUN ends in #VMEXIT(VMEXIT_INVALID) (AMD APM
/// vol. 2, 15.5.1 "Canonicalization and Consistency Checks"); <see cref="SvmUnit.LastConsistencyFailure"/>
/// names the one a VMRUN failed on.
/// </summary>
public enum VmcbConsistencyCheck
{
    None,
    EferSvmeClear,
    Cr0CdClearNwSet,
    Cr0HighBitsSet,
    Cr3MbzBitSet,
    Cr4MbzBitSet,
    Dr6HighBitsSet,
    Dr7HighBitsSet,
    EferMbzBitSet,
    LongModeWithoutCr4Pae,
    LongModeWithoutCr0Pe,
    LongModeWithCsLAndD,
    VmrunInterceptClear,
    AsidZero,
    MsrpmBeyondMaxPhysicalAddress,
    IopmBeyondMaxPhysicalAddress,
    IllegalEventInjection,

    /// <summary>With nested paging, G_PAT holds a memory type that WRMSR to PAT would refuse.</summary>
    IllegalGPat,

    /// <summary>NP_ENABLE set while the host runs without paging (15.25.3).</summary>
    NestedPagingWithoutHostPaging,

    /// <summary>With NP_ENABLE, an MBZ bit of nCR3 is set (15.25.4).</summary>
    NCr3MbzBitSet,

    /// <summary>A guest in PAE paging mode without nested paging has a present PDPE with a reserved bit set.</summary>
    PdpeReservedBitSet,
}
