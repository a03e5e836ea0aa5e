namespace Sim.Vmx;

/// <summary>
/// Modeled cycles the unit charges to the processor for a VM exit and a VM entry. The defaults
/// split a round trip of about 500 cycles, the VM exit + VM entry latency Intel reports for
/// Haswell-and-later cores (Intel 64 and IA-32 Architectures Optimization Reference Manual; also
/// measured by KVM's vmexit.flat "cpuid" unit test at 450–550 cycles on Skylake-class parts),
/// roughly evenly between exit and entry.
/// </summary>
public sealed record VmxCost(ulong VmExit = 250, ulong VmEntry = 250)
{
    public static readonly VmxCost Default = new();
}
