namespace Sim.Cpu;

/// <summary>
/// What a performance counter counts, of the events the simulation has exact counts for: the
/// architectural events of SDM vol. 3, table 18-1 (and AMD's equivalents, APM vol. 2, 13.2.1).
/// An event select naming any other event leaves its counter unchanged.
/// </summary>
internal enum PerformanceEvent : byte
{
    None,
    InstructionsRetired,
    CoreCycles,
    ReferenceCycles,
    BranchInstructionsRetired,
}
