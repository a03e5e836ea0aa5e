using System.Buffers.Binary;

namespace Sim.Platform.Firmware;

/// <summary>
/// The machine's ACPI tables as QEMU hands them to firmware over fw_cfg: the file etc/acpi/tables (FACS,
/// DSDT, FADT, MADT, HPET, RSDT, XSDT, each pointer holding the offset of its target in the file and each
/// checksum 0), etc/acpi/rsdp, and the linker/loader commands that place them. <see cref="Place"/> runs those
/// commands for the addresses the machine chooses.
/// </summary>
public sealed class AcpiTables
{
    public const string TablesFile = "etc/acpi/tables";
    public const string RsdpFile = "etc/acpi/rsdp";

    /// <summary>The tables file is allocated 64-byte aligned, since the FACS comes first; the RSDP on a 16-byte boundary.</summary>
    public const uint TablesAlignment = FirmwareAcpiControlStructure.Alignment;
    public const uint RsdpAlignment = 16;

    private readonly List<byte> _tables = [];
    private readonly Dictionary<string, int> _offsets = [];

    private AcpiTables() { }

    public byte[] Tables { get; private set; } = [];

    public byte[] Rsdp { get; private set; } = [];

    public BiosLinkerLoader Loader { get; } = new();

    /// <summary>Each table's offset in <see cref="Tables"/>, by signature.</summary>
    public IReadOnlyDictionary<string, int> Offsets => _offsets;

    public static AcpiTables Build(int cpus)
    {
        var acpi = new AcpiTables();
        var loader = acpi.Loader;
        loader.Add(new BiosLinkerLoader.Allocate(RsdpFile, RsdpAlignment, BiosLinkerLoader.ZoneFSeg));
        loader.Add(new BiosLinkerLoader.Allocate(TablesFile, TablesAlignment, BiosLinkerLoader.ZoneHigh));

        var facs = acpi.Append("FACS", FirmwareAcpiControlStructure.Build(), checksum: false);
        var dsdt = acpi.Append("DSDT", DifferentiatedSystemDescriptionTable.Build(ChipsetLayout.SoftOffSleepType), checksum: true);

        var fadtBytes = FixedAcpiDescriptionTable.Build(cpus, (uint)facs, (uint)dsdt);
        var fadt = acpi.Append("FACP", fadtBytes, checksum: false);
        acpi.Pointer(fadt + FixedAcpiDescriptionTable.FirmwareCtrlOffset, 4);
        acpi.Pointer(fadt + FixedAcpiDescriptionTable.DsdtOffset, 4);
        acpi.Pointer(fadt + FixedAcpiDescriptionTable.XDsdtOffset, 8);
        acpi.Checksum(fadt, fadtBytes.Length);

        var described = new[]
        {
            fadt,
            acpi.Append("APIC", MultipleApicDescriptionTable.Build(cpus), checksum: true),
            acpi.Append("HPET", HpetDescriptionTable.Build(), checksum: true),
        };

        var rsdt = acpi.AppendDirectory("RSDT", RootSystemDescriptionTable.Build(described.Length), RootSystemDescriptionTable.EntrySize, described);
        var xsdt = acpi.AppendDirectory("XSDT", ExtendedSystemDescriptionTable.Build(described.Length), ExtendedSystemDescriptionTable.EntrySize, described);
        acpi.Tables = [.. acpi._tables];

        acpi.Rsdp = RootSystemDescriptionPointer.Build((uint)rsdt, (ulong)xsdt);
        loader.Add(new BiosLinkerLoader.AddPointer(RsdpFile, TablesFile, RootSystemDescriptionPointer.RsdtAddressOffset, 4));
        loader.Add(new BiosLinkerLoader.AddPointer(RsdpFile, TablesFile, RootSystemDescriptionPointer.XsdtAddressOffset, 8));
        loader.Add(new BiosLinkerLoader.AddChecksum(RsdpFile, RootSystemDescriptionPointer.ChecksumOffset, 0, RootSystemDescriptionPointer.Revision1Length));
        loader.Add(new BiosLinkerLoader.AddChecksum(RsdpFile, RootSystemDescriptionPointer.ExtendedChecksumOffset, 0, RootSystemDescriptionPointer.Length));
        return acpi;
    }

    /// <summary>The tables and the RSDP as they read once placed at <paramref name="tablesAddress"/> and <paramref name="rsdpAddress"/>.</summary>
    public (byte[] Tables, byte[] Rsdp) Place(ulong tablesAddress, ulong rsdpAddress)
    {
        var placed = Loader.Apply(
            new Dictionary<string, byte[]> { [TablesFile] = Tables, [RsdpFile] = Rsdp },
            new Dictionary<string, ulong> { [TablesFile] = tablesAddress, [RsdpFile] = rsdpAddress });
        return (placed[TablesFile], placed[RsdpFile]);
    }

    private int Append(string signature, byte[] table, bool checksum)
    {
        // 16-byte boundaries keep every table's fields naturally aligned.
        while (_tables.Count % 16 != 0) _tables.Add(0);
        var offset = _tables.Count;
        _tables.AddRange(table);
        _offsets[signature] = offset;
        if (checksum) Checksum(offset, table.Length);
        return offset;
    }

    private int AppendDirectory(string signature, byte[] table, int entrySize, int[] entries)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            var field = table.AsSpan(SystemDescriptionTableHeader.Size + i * entrySize, entrySize);
            if (entrySize == 4) BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)entries[i]);
            else BinaryPrimitives.WriteUInt64LittleEndian(field, (ulong)entries[i]);
        }
        var offset = Append(signature, table, checksum: false);
        for (var i = 0; i < entries.Length; i++) Pointer(offset + SystemDescriptionTableHeader.Size + i * entrySize, (byte)entrySize);
        Checksum(offset, table.Length);
        return offset;
    }

    private void Pointer(int offset, byte size) =>
        Loader.Add(new BiosLinkerLoader.AddPointer(TablesFile, TablesFile, (uint)offset, size));

    private void Checksum(int tableOffset, int length) =>
        Loader.Add(new BiosLinkerLoader.AddChecksum(TablesFile, (uint)(tableOffset + SystemDescriptionTableHeader.ChecksumOffset), (uint)tableOffset, (uint)length));
}
