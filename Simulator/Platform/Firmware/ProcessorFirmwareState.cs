using Sim.Cpu;

namespace Sim.Platform.Firmware;

/// <summary>
/// What firmware leaves in every processor before a boot path starts the guest: on an Intel machine,
/// IA32_FEATURE_CONTROL locked (bit 0) with VMXON outside SMX enabled (bit 2), as PC firmware leaves it
/// (SDM vol. 3, 24.7), unless <see cref="MachineConfig.FeatureControlLocked"/> keeps it at 0 for tests of
/// VMXON's #GP. No SMX, so bit 1 stays clear.
/// </summary>
public static class ProcessorFirmwareState
{
    public const ulong FeatureControlLock = 1;
    public const ulong FeatureControlVmxOutsideSmx = 4;

    public static void Install(IReadOnlyList<Processor> processors, MachineConfig config)
    {
        ArgumentNullException.ThrowIfNull(processors);
        ArgumentNullException.ThrowIfNull(config);
        if (config.Vendor != CpuVendor.Intel || !config.FeatureControlLocked) return;
        foreach (var cpu in processors) cpu.FeatureControl = FeatureControlLock | FeatureControlVmxOutsideSmx;
    }
}
