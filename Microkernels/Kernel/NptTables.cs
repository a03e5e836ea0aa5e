using Sim.Cpu.Memory;
using Sim.Svm.Npt;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// Builds nested page tables entry by entry in the host page-table formats of AMD APM vol. 2
/// chapter 5: long-mode (four levels, 8-byte entries), PAE (four PDPEs, two levels) or legacy
/// 32-bit (4-byte entries); the root is the first table.
/// </summary>
public sealed class NptTables
{
    public const ulong P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1UL << 63;
    public const ulong Rwu = P | RW | US;

    private readonly PageTableBuilder _tables;

    /// <summary>Tables from <paramref name="pool"/> up, lowest address first.</summary>
    public NptTables(PhysicalMemory memory, ulong pool, NestedPagingMode format = NestedPagingMode.LongMode)
        : this(new PageTableBuilder(memory, ModeOf(format), pool), format)
    {
    }

    public NptTables(KernelMemory tables, NestedPagingMode format = NestedPagingMode.LongMode)
        : this(new PageTableBuilder(tables, ModeOf(format)), format)
    {
    }

    private NptTables(PageTableBuilder tables, NestedPagingMode format)
    {
        _tables = tables;
        Format = format;
    }

    private static PagingMode ModeOf(NestedPagingMode format) => format switch
    {
        NestedPagingMode.LongMode => PagingMode.FourLevel,
        NestedPagingMode.Pae => PagingMode.Pae,
        _ => PagingMode.Bits32,
    };

    public NestedPagingMode Format { get; }

    /// <summary>The value for nCR3.</summary>
    public ulong Root => _tables.Root;

    /// <summary>
    /// The address of the entry that maps <paramref name="gpa"/> at <paramref name="level"/>
    /// (1 = PTE, 2 = PDE, 3 = PDPE, 4 = PML4E), creating the tables above it with P, RW and US
    /// (a legacy PAE PDPE with P only: its R/W and U/S bits are reserved).
    /// </summary>
    public ulong EntryAddress(ulong gpa, int level) => _tables.EntryAddress(gpa, level);

    public ulong Entry(ulong gpa, int level) => _tables.Read(gpa, level);

    public void SetEntry(ulong gpa, int level, ulong value) => _tables.Write(gpa, level, value);

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
