namespace Sim.Vmm.Genode;

/// <summary>A segment register as the unified vCPU state carries it; <see cref="Ar"/> in the compact 16-bit AMD/NOVA format.</summary>
public readonly record struct Segment(ushort Sel, ushort Ar, uint Limit, ulong Base);
