namespace Sim.Vmm.Genode;

/// <summary>The session arguments of a <see cref="VmConnection"/>: label, scheduling priority of its vCPUs, affinity.</summary>
public readonly record struct VmSessionArgs(string Label, int Priority, int Affinity);
