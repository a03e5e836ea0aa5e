namespace Sim.Cpu.Virtualization;

/// <summary>RDMSR or WRMSR of the MSR <paramref name="Index"/> (ECX); <paramref name="Value"/> is what WRMSR writes (EDX:EAX), 0 for RDMSR.</summary>
public readonly record struct MsrIntercept(uint Index, ulong Value);
