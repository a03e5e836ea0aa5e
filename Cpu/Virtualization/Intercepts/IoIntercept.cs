namespace Sim.Cpu.Virtualization;

/// <summary>IN, OUT, INS or OUTS: the port, the access size in bytes, the direction, and whether it is the string form.</summary>
public readonly record struct IoIntercept(ushort Port, int Size, bool In, bool String);
