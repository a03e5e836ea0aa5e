namespace Sim.Cpu.Virtualization;

/// <summary>CPUID with the leaf (EAX) and subleaf (ECX) it was executed with.</summary>
public readonly record struct CpuidIntercept(uint Leaf, uint Subleaf);
