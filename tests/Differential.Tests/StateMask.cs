namespace Sim.Differential.Tests;

/// <summary>Which parts of the state the SDM defines after some prefix of a case's instructions.</summary>
/// <param name="DefinedFlags">EFLAGS bits (of <see cref="Eflags.Compared"/>) with defined values.</param>
/// <param name="UndefinedRegisters">Bit i set: general register i holds an undefined value.</param>
/// <param name="ScratchUndefined">Some byte of the scratch area holds an undefined value.</param>
public readonly record struct StateMask(uint DefinedFlags, int UndefinedRegisters, bool ScratchUndefined);
