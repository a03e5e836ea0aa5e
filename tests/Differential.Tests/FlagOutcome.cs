namespace Sim.Differential.Tests;

/// <summary>What one execution of an instruction does to the flags and its destination, as far as the SDM defines it.</summary>
/// <param name="Modified">EFLAGS bits the instruction writes (defined or not).</param>
/// <param name="Undefined">EFLAGS bits among them whose value the SDM leaves undefined.</param>
/// <param name="DestinationUndefined">The SDM leaves the destination operand's value undefined.</param>
public readonly record struct FlagOutcome(uint Modified, uint Undefined, bool DestinationUndefined);
