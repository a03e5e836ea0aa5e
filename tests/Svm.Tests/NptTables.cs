using Sim.Cpu.Memory;
using Sim.Svm.Npt;

namespace Sim.Svm.Tests;

/// <summary>
/// Builds nested page tables in simulated memory in the formats of AMD APM vol. 2 chapter 5:
/// long-mode (four levels, 8-byte entries), PAE (four PDPEs, two levels) or legacy 32-bit (4-byte entries).
/// Tables come from a bump allocator starting at <paramref name="pool"/>; the root is the first page.
/// </summary>
internal sealed class NptTables
{
    public const ulong P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1UL << 63;
    public const ulong Rwu = P | RW | US;

    private readonly PhysicalMemory _memory;
    private ulong _next;

    public NptTables(PhysicalMemory memory, ulong pool, NestedPagingMode format = NestedPagingMode.LongMode)
    {
        _memory = memory;
        _next = pool;
        Format = format;
        Root = Allocate();
    }

    public NestedPagingMode Format { get; }

    /// <summary>The value for nCR3.</summary>
    public ulong Root { get; }

    private int EntrySize => Format == NestedPagingMode.Legacy ? 4 : 8;

    private int TopLevel => Format switch { NestedPagingMode.LongMode => 4, NestedPagingMode.Pae => 3, _ => 2 };

    private ulong Allocate()
    {
        var page = _next;
        _next += 0x1000;
        for (ulong i = 0; i < 0x1000; i += 8) _memory.Write(page + i, 8, 0);
        return page;
    }

    private ulong IndexAt(ulong gpa, int level) => Format switch
    {
        NestedPagingMode.Legacy => (gpa >> (level == 2 ? 22 : 12)) & 0x3FF,
        NestedPagingMode.Pae when level == 3 => (gpa >> 30) & 3,
        _ => (gpa >> (12 + 9 * (level - 1))) & 0x1FF,
    };

    /// <summary>
    /// The address of the entry that maps <paramref name="gpa"/> at <paramref name="level"/>
    /// (1 = PTE, 2 = PDE, 3 = PDPE, 4 = PML4E), creating the tables above it with P, RW and US.
    /// </summary>
    public ulong EntryAddress(ulong gpa, int level)
    {
        var table = Root;
        for (var l = TopLevel; ; l--)
        {
            var address = table + IndexAt(gpa, l) * (ulong)EntrySize;
            if (l == level) return address;
            var entry = _memory.Read(address, EntrySize);
            if ((entry & P) == 0)
            {
                var next = Allocate();
                // A legacy PAE PDPE has no R/W or U/S bits (they are reserved).
                entry = next | (Format == NestedPagingMode.Pae && l == 3 ? P : Rwu);
                _memory.Write(address, EntrySize, entry);
            }
            table = entry & 0xFFFFFFFFFF000UL;
        }
    }

    public ulong Entry(ulong gpa, int level) => _memory.Read(EntryAddress(gpa, level), EntrySize);

    public void SetEntry(ulong gpa, int level, ulong value) => _memory.Write(EntryAddress(gpa, level), EntrySize, value);

    /// <summary>Maps the 4-KiB page of <paramref name="gpa"/> to <paramref name="hostPhysical"/>.</summary>
    public void Map4K(ulong gpa, ulong hostPhysical, ulong flags = Rwu) => SetEntry(gpa, 1, (hostPhysical & ~0xFFFUL) | flags);

    /// <summary>Maps a large page at <paramref name="level"/> (2: 2 MiB, or 4 MiB in the legacy format; 3: 1 GiB).</summary>
    public void MapLarge(ulong gpa, ulong hostPhysical, int level, ulong flags = Rwu) => SetEntry(gpa, level, hostPhysical | flags | PS);

    /// <summary>Maps [0, size) so that guest-physical g is host-physical g + offset, with 4-KiB pages.</summary>
    public void MapRange(ulong size, ulong offset, ulong flags = Rwu)
    {
        for (ulong g = 0; g < size; g += 0x1000) Map4K(g, g + offset, flags);
    }
}
