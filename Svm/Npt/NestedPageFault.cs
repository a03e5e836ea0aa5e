namespace Sim.Svm.Npt;

/// <summary>
/// A refused nested-page translation as #VMEXIT(NPF) reports it (AMD APM vol. 2, 15.25.6):
/// EXITINFO1 holds the #PF-style error code with bit 32 (fault on the final guest-physical
/// address) or bit 33 (fault while walking the guest's page tables), EXITINFO2 the guest-physical address.
/// </summary>
public readonly record struct NestedPageFault(ulong ExitInfo1, ulong ExitInfo2);
