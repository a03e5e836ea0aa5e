using System.Buffers.Binary;
using System.Text;

namespace Sim.Platform.Firmware;

/// <summary>
/// QEMU's BIOS linker/loader script (the fw_cfg file etc/table-loader, hw/acpi/bios-linker-loader.c):
/// commands by which firmware allocates the fw_cfg table files in guest memory, adds each file's address
/// to the pointers that refer to it and computes the checksums. <see cref="Apply"/> runs the same
/// commands, so the tables the machine places itself are the ones such firmware would place.
/// </summary>
public sealed class BiosLinkerLoader
{
    public const int EntrySize = 128;
    public const int FileNameSize = 56;

    public const uint CommandAllocate = 1;
    public const uint CommandAddPointer = 2;
    public const uint CommandAddChecksum = 3;

    public const byte ZoneHigh = 1;
    public const byte ZoneFSeg = 2;

    public abstract record Command;

    public sealed record Allocate(string File, uint Align, byte Zone) : Command;

    /// <summary>Adds the address of <paramref name="SourceFile"/> to the <paramref name="Size"/>-byte field at <paramref name="Offset"/> of <paramref name="DestinationFile"/>.</summary>
    public sealed record AddPointer(string DestinationFile, string SourceFile, uint Offset, byte Size) : Command;

    /// <summary>Adds minus the sum of [<paramref name="Start"/>, +<paramref name="Length"/>) to the byte at <paramref name="Offset"/>.</summary>
    public sealed record AddChecksum(string File, uint Offset, uint Start, uint Length) : Command;

    private readonly List<Command> _commands = [];

    public IReadOnlyList<Command> Commands => _commands;

    public void Add(Command command) => _commands.Add(command);

    /// <summary>The etc/table-loader file: one 128-byte little-endian entry per command.</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[_commands.Count * EntrySize];
        for (var i = 0; i < _commands.Count; i++)
        {
            var e = bytes.AsSpan(i * EntrySize, EntrySize);
            switch (_commands[i])
            {
                case Allocate a:
                    BinaryPrimitives.WriteUInt32LittleEndian(e, CommandAllocate);
                    WriteName(e[4..], a.File);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[(4 + FileNameSize)..], a.Align);
                    e[8 + FileNameSize] = a.Zone;
                    break;
                case AddPointer p:
                    BinaryPrimitives.WriteUInt32LittleEndian(e, CommandAddPointer);
                    WriteName(e[4..], p.DestinationFile);
                    WriteName(e[(4 + FileNameSize)..], p.SourceFile);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[(4 + 2 * FileNameSize)..], p.Offset);
                    e[8 + 2 * FileNameSize] = p.Size;
                    break;
                case AddChecksum c:
                    BinaryPrimitives.WriteUInt32LittleEndian(e, CommandAddChecksum);
                    WriteName(e[4..], c.File);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[(4 + FileNameSize)..], c.Offset);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[(8 + FileNameSize)..], c.Start);
                    BinaryPrimitives.WriteUInt32LittleEndian(e[(12 + FileNameSize)..], c.Length);
                    break;
            }
        }
        return bytes;
    }

    /// <summary>Reads an etc/table-loader file back into commands (entries with an unknown command are skipped, as SeaBIOS does).</summary>
    public static BiosLinkerLoader Parse(ReadOnlySpan<byte> bytes)
    {
        var loader = new BiosLinkerLoader();
        for (var at = 0; at + EntrySize <= bytes.Length; at += EntrySize)
        {
            var e = bytes.Slice(at, EntrySize);
            switch (BinaryPrimitives.ReadUInt32LittleEndian(e))
            {
                case CommandAllocate:
                    loader.Add(new Allocate(ReadName(e[4..]), BinaryPrimitives.ReadUInt32LittleEndian(e[(4 + FileNameSize)..]), e[8 + FileNameSize]));
                    break;
                case CommandAddPointer:
                    loader.Add(new AddPointer(ReadName(e[4..]), ReadName(e[(4 + FileNameSize)..]),
                        BinaryPrimitives.ReadUInt32LittleEndian(e[(4 + 2 * FileNameSize)..]), e[8 + 2 * FileNameSize]));
                    break;
                case CommandAddChecksum:
                    loader.Add(new AddChecksum(ReadName(e[4..]), BinaryPrimitives.ReadUInt32LittleEndian(e[(4 + FileNameSize)..]),
                        BinaryPrimitives.ReadUInt32LittleEndian(e[(8 + FileNameSize)..]), BinaryPrimitives.ReadUInt32LittleEndian(e[(12 + FileNameSize)..])));
                    break;
            }
        }
        return loader;
    }

    /// <summary>
    /// Runs the pointer and checksum commands on copies of <paramref name="files"/>, each file placed at
    /// <paramref name="addresses"/>[name], and returns the copies.
    /// </summary>
    public Dictionary<string, byte[]> Apply(IReadOnlyDictionary<string, byte[]> files, IReadOnlyDictionary<string, ulong> addresses)
    {
        var placed = files.ToDictionary(f => f.Key, f => (byte[])f.Value.Clone());
        foreach (var command in _commands)
        {
            switch (command)
            {
                case Allocate a:
                    if (addresses[a.File] % a.Align != 0)
                        throw new ArgumentException($"{a.File} at 0x{addresses[a.File]:x} is not aligned to {a.Align}", nameof(addresses));
                    break;
                case AddPointer p:
                {
                    var field = placed[p.DestinationFile].AsSpan((int)p.Offset, p.Size);
                    ulong value = 0;
                    for (var i = 0; i < p.Size; i++) value |= (ulong)field[i] << (8 * i);
                    value += addresses[p.SourceFile];
                    for (var i = 0; i < p.Size; i++) field[i] = (byte)(value >> (8 * i));
                    break;
                }
                case AddChecksum c:
                {
                    var file = placed[c.File];
                    file[c.Offset] -= TableChecksum.Sum(file.AsSpan((int)c.Start, (int)c.Length));
                    break;
                }
            }
        }
        return placed;
    }

    private static void WriteName(Span<byte> destination, string name)
    {
        if (name.Length >= FileNameSize) throw new ArgumentException($"fw_cfg file name '{name}' is too long", nameof(name));
        Encoding.ASCII.GetBytes(name, destination);
    }

    private static string ReadName(ReadOnlySpan<byte> field)
    {
        field = field[..FileNameSize];
        var end = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? field : field[..end]);
    }
}
