namespace Sim.Platform.Firmware;

/// <summary>The XSDT (ACPI 6.5, 5.2.8): the header followed by 64-bit table addresses.</summary>
public static class ExtendedSystemDescriptionTable
{
    public const byte Revision = 1;
    public const int EntrySize = 8;

    /// <summary>The table with room for <paramref name="entries"/> addresses, all 0.</summary>
    public static byte[] Build(int entries) =>
        SystemDescriptionTableHeader.Create("XSDT", SystemDescriptionTableHeader.Size + entries * EntrySize, Revision);
}
