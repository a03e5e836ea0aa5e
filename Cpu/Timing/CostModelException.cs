namespace Sim.Cpu.Timing;

/// <summary>A cost file that cannot be used; the message names the file and the figure at fault, in one line.</summary>
public sealed class CostModelException(string message) : Exception(message);
