using Sim.Platform.Bios;

namespace Sim.Platform.Firmware;

/// <summary>
/// Where the firmware tables lie. E0000h–EFFFFh (reserved in the E820 map) holds the ACPI tables, the MP
/// configuration table and the RSDP copy the ACPI search finds in the BIOS area; the EBDA's first KiB holds
/// the other RSDP copy and the MP floating pointer, where both specifications search first.
/// </summary>
public static class FirmwareLayout
{
    public const ulong TablesAreaBase = E820Map.FirmwareAreaBase;
    public const ulong TablesAreaSize = 0x10000;

    public const ulong BiosAreaRsdp = TablesAreaBase;
    public const ulong AcpiTablesBase = TablesAreaBase + 0x1000;
    public const ulong MpConfigurationTableBase = TablesAreaBase + 0x8000;

    /// <summary>After the EBDA's size byte, on 16-byte boundaries.</summary>
    public const ulong EbdaRsdp = E820Map.EbdaBase + 0x10;
    public const ulong EbdaMpFloatingPointer = E820Map.EbdaBase + 0x40;
}
