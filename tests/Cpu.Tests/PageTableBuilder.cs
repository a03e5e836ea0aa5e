using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

public enum PagingMode
{
    Bits32,
    Pae,
    FourLevel,
}

/// <summary>Writes the paging structures of SDM vol. 3, 4.3 (32-bit), 4.4 (PAE) and 4.5 (4-level) into guest memory.</summary>
internal sealed class PageTableBuilder
{
    public const ulong P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80, NX = 1UL << 63;

    private readonly PhysicalMemory _memory;
    private ulong _next;

    public PageTableBuilder(PhysicalMemory memory, PagingMode mode, ulong tableArea = 0x200000)
    {
        _memory = memory;
        Mode = mode;
        _next = tableArea;
        Root = Allocate();
    }

    public PagingMode Mode { get; }

    /// <summary>The value for CR3.</summary>
    public ulong Root { get; }

    private int EntrySize => Mode == PagingMode.Bits32 ? 4 : 8;

    private int Levels => Mode switch { PagingMode.Bits32 => 2, PagingMode.Pae => 3, _ => 4 };

    private int IndexBits(int level) => Mode == PagingMode.Bits32 ? 10 : Mode == PagingMode.Pae && level == Levels ? 2 : 9;

    private int Shift(int level) => Mode == PagingMode.Bits32 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);

    private ulong Allocate()
    {
        var page = _next;
        _next += 0x1000;
        for (ulong i = 0; i < 0x1000; i += 8) _memory.Write(page + i, 8, 0);
        return page;
    }

    /// <summary>Address of the entry for <paramref name="linear"/> at <paramref name="level"/> (1 = PTE), creating the tables above it.</summary>
    public ulong EntryAddress(ulong linear, int level)
    {
        var table = Root;
        for (var l = Levels; ; l--)
        {
            var index = (linear >> Shift(l)) & ((1UL << IndexBits(l)) - 1);
            var address = table + index * (ulong)EntrySize;
            if (l == level) return address;
            var entry = _memory.Read(address, EntrySize);
            if ((entry & P) == 0)
            {
                var next = Allocate();
                // PAE PDPTEs have no R/W or U/S bits (SDM table 4-8); the other levels get the most permissive rights.
                entry = next | (Mode == PagingMode.Pae && l == Levels ? P : P | RW | US);
                _memory.Write(address, EntrySize, entry);
            }
            table = entry & 0x000FFFFFFFFFF000UL;
        }
    }

    public ulong Read(ulong linear, int level) => _memory.Read(EntryAddress(linear, level), EntrySize);

    public void Write(ulong linear, int level, ulong value) => _memory.Write(EntryAddress(linear, level), EntrySize, value);

    /// <summary>Maps a 4-KiB page.</summary>
    public void Map(ulong linear, ulong physical, ulong flags) => Write(linear, 1, physical | flags | P);

    /// <summary>Maps a large page at <paramref name="level"/> 2 (4 MiB or 2 MiB) or 3 (1 GiB).</summary>
    public void MapLarge(ulong linear, ulong physical, ulong flags, int level = 2) => Write(linear, level, physical | flags | P | PS);

    public void IdentityMap(ulong start, ulong length, ulong flags)
    {
        for (var a = start; a < start + length; a += 0x1000) Map(a, a, flags);
    }
}
