namespace Sim.Cpu.Virtualization;

/// <summary>What a guest-physical access is, as EPT-violation qualifications and nested-page-fault codes report it.</summary>
[Flags]
public enum GuestPhysicalAccess : byte
{
    Read = 1,
    Write = 2,
    Fetch = 4,
    /// <summary>The access reads or updates a guest paging-structure entry (not the final translation).</summary>
    PagingStructure = 8,
    /// <summary>The access is made at CPL 3 (an explicit user-mode access).</summary>
    User = 16,
    /// <summary>The access comes from a linear address (with paging off the linear address is the address itself); clear only for PDPTE loads.</summary>
    LinearValid = 32,
}
