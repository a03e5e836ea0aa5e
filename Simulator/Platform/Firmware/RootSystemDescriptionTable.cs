namespace Sim.Platform.Firmware;

/// <summary>The RSDT (ACPI 6.5, 5.2.7): the header followed by 32-bit table addresses.</summary>
public static class RootSystemDescriptionTable
{
    public const byte Revision = 1;
    public const int EntrySize = 4;

    /// <summary>The table with room for <paramref name="entries"/> addresses, all 0.</summary>
    public static byte[] Build(int entries) =>
        SystemDescriptionTableHeader.Create("RSDT", SystemDescriptionTableHeader.Size + entries * EntrySize, Revision);
}
