using Sim.Cpu.Memory;

namespace Sim.Microkernels.Kernel;

/// <summary>Writes the paging structures of SDM vol. 3, 4.3 (32-bit), 4.4 (PAE) and 4.5 (4-level) into memory.</summary>
public sealed class PageTableBuilder : PagingStructureBuilder
{
    public const ulong P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1UL << 63;

    /// <summary>Tables from <paramref name="tableArea"/> up, lowest address first.</summary>
    public PageTableBuilder(PhysicalMemory memory, PagingMode mode, ulong tableArea = 0x200000) : this(Pool(memory, tableArea), mode)
    {
    }

    public PageTableBuilder(KernelMemory tables, PagingMode mode) : base(tables)
    {
        Mode = mode;
    }

    public PagingMode Mode { get; }

    protected override int TopLevel => Mode switch { PagingMode.Bits32 => 2, PagingMode.Pae => 3, _ => 4 };

    protected override int EntrySize => Mode == PagingMode.Bits32 ? 4 : 8;

    protected override ulong AddressMask => 0x000FFFFFFFFFF000UL;

    protected override ulong Index(ulong linear, int level)
    {
        var bits = Mode == PagingMode.Bits32 ? 10 : Mode == PagingMode.Pae && level == TopLevel ? 2 : 9;
        var shift = Mode == PagingMode.Bits32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
        return (linear >> shift) & ((1UL << bits) - 1);
    }

    protected override bool IsPresent(ulong entry) => (entry & P) != 0;

    // PAE PDPTEs have no R/W or U/S bits (SDM table 4-8); the other levels get the most permissive rights.
    protected override ulong TableEntry(ulong table, int level) => table | (Mode == PagingMode.Pae && level == TopLevel ? P : P | RW | US);

    public ulong Read(ulong linear, int level) => this[EntryAddress(linear, level)];

    public void Write(ulong linear, int level, ulong value) => this[EntryAddress(linear, level)] = value;

    /// <summary>Maps a 4-KiB page.</summary>
    public void Map(ulong linear, ulong physical, ulong flags) => Write(linear, 1, physical | flags | P);

    /// <summary>Maps a large page at <paramref name="level"/> 2 (4 MiB or 2 MiB) or 3 (1 GiB).</summary>
    public void MapLarge(ulong linear, ulong physical, ulong flags, int level = 2) => Write(linear, level, physical | flags | P | PS);

    public void IdentityMap(ulong start, ulong length, ulong flags)
    {
        for (var a = start; a < start + length; a += 0x1000) Map(a, a, flags);
    }
}
