namespace Sim.Vmm.Genode;

/// <summary>
/// The hardware virtualization a machine offers, as a VMM learns it from CPUID's vendor string and
/// the <c>hardware/features</c> node of Genode's <c>platform_info</c> ROM (<c>vmx</c> / <c>svm</c>).
/// </summary>
public enum VirtualizationKind
{
    None,
    Vmx,
    Svm,
}
