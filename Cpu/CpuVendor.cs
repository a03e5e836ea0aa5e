namespace Sim.Cpu;

/// <summary>Whose CPUID identity the processor presents; it decides which virtualization extension CPUID announces.</summary>
public enum CpuVendor : byte
{
    Intel,
    Amd,
}
