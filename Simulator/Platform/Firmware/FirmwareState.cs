using Sim.Cpu;
using Sim.Cpu.Memory;

namespace Sim.Platform.Firmware;

/// <summary>
/// What firmware leaves in memory before any boot path starts the guest: the BIOS data area and EBDA, the
/// ACPI tables with both RSDP copies, and the MP tables, all at <see cref="FirmwareLayout"/>'s addresses.
/// </summary>
public static class FirmwareState
{
    public static void Install(PhysicalMemory memory, MachineConfig config, Processor bootstrapProcessor)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(bootstrapProcessor);
        BiosDataArea.Install(memory);
        memory.Zero(FirmwareLayout.TablesAreaBase, FirmwareLayout.TablesAreaSize);

        var acpi = AcpiTables.Build(config.Cpus);
        var (tables, rsdp) = acpi.Place(FirmwareLayout.AcpiTablesBase, FirmwareLayout.BiosAreaRsdp);
        if (FirmwareLayout.AcpiTablesBase + (ulong)tables.Length > FirmwareLayout.MpConfigurationTableBase)
            throw new InvalidOperationException("The ACPI tables overflow into the MP configuration table.");
        memory.WriteBytes(FirmwareLayout.AcpiTablesBase, tables);
        memory.WriteBytes(FirmwareLayout.BiosAreaRsdp, rsdp);
        // The same RSDP (its checksums cover no address of its own) in the EBDA.
        memory.WriteBytes(FirmwareLayout.EbdaRsdp, rsdp);

        bootstrapProcessor.Cpuid(1, 0, out var signature, out _, out _, out var features);
        var mp = MpConfigurationTable.Build(config.Cpus, signature, features);
        memory.WriteBytes(FirmwareLayout.MpConfigurationTableBase, mp);
        memory.WriteBytes(FirmwareLayout.EbdaMpFloatingPointer, MpFloatingPointer.Build((uint)FirmwareLayout.MpConfigurationTableBase));
    }
}
