using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>
/// The items fw_cfg serves for a machine, as QEMU's PC machine fills them: the signature "QEMU", the ID
/// bitmap, a zero UUID, the RAM size, NOGRAPHIC = 1 (the machine has no display), the CPU counts, and the
/// files etc/acpi/rsdp, etc/acpi/tables, etc/e820 and etc/table-loader, sorted by name with selectors from
/// 20h on in that order, as QEMU assigns them. etc/e820 is QEMU's: the RAM, which firmware turns into its own
/// map; the E820 map the BIOS reports adds the reserved areas.
/// </summary>
public static class FwCfgItems
{
    public const string E820File = "etc/e820";
    public const string TableLoaderFile = "etc/table-loader";

    public const int FileEntrySize = 64;
    public const int FileNameSize = 56;

    public const uint E820Ram = 1;
    public const int E820EntrySize = 20;

    public static Dictionary<ushort, byte[]> For(MachineConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var acpi = AcpiTables.Build(config.Cpus);
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [AcpiTables.RsdpFile] = acpi.Rsdp,
            [AcpiTables.TablesFile] = acpi.Tables,
            [TableLoaderFile] = acpi.Loader.Serialize(),
            [E820File] = E820([(0, config.MemoryBytes, E820Ram)]),
        };

        var items = new Dictionary<ushort, byte[]>
        {
            [FwCfgKey.Signature] = "QEMU"u8.ToArray(),
            [FwCfgKey.Id] = Le32(FwCfgKey.IdTraditional | FwCfgKey.IdDma),
            [FwCfgKey.Uuid] = new byte[16],
            [FwCfgKey.RamSize] = Le64(config.MemoryBytes),
            [FwCfgKey.NoGraphic] = Le16(1),
            [FwCfgKey.NbCpus] = Le16((ushort)config.Cpus),
            [FwCfgKey.MaxCpus] = Le16((ushort)config.Cpus),
        };
        var directory = new byte[4 + files.Count * FileEntrySize];
        BinaryPrimitives.WriteUInt32BigEndian(directory, (uint)files.Count);
        var select = FwCfgKey.FileFirst;
        var at = 4;
        foreach (var (name, data) in files)
        {
            var entry = directory.AsSpan(at, FileEntrySize);
            BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)data.Length);
            BinaryPrimitives.WriteUInt16BigEndian(entry[4..], select);
            Encoding.ASCII.GetBytes(name, entry[8..]);
            items[select] = data;
            select++;
            at += FileEntrySize;
        }
        items[FwCfgKey.FileDir] = directory;
        return items;
    }

    private static byte[] E820(IReadOnlyList<(ulong Base, ulong Length, uint Type)> map)
    {
        var bytes = new byte[map.Count * E820EntrySize];
        for (var i = 0; i < map.Count; i++)
        {
            var e = bytes.AsSpan(i * E820EntrySize);
            BinaryPrimitives.WriteUInt64LittleEndian(e, map[i].Base);
            BinaryPrimitives.WriteUInt64LittleEndian(e[8..], map[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(e[16..], map[i].Type);
        }
        return bytes;
    }

    private static byte[] Le16(ushort v)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        return b;
    }

    private static byte[] Le32(uint v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return b;
    }

    private static byte[] Le64(ulong v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }
}
