using Sim.Cpu.Memory;
using Sim.Vmx.Ept;

namespace Sim.Vmx.Tests;

/// <summary>Builds EPT paging structures (SDM vol. 3, 29.3.2) in simulated memory, tables taken from a pool.</summary>
internal sealed class EptTables
{
    public const ulong ReadWriteExecute = 7;
    private const ulong AddressMask = 0xFF_FFFF_F000UL;

    private readonly PhysicalMemory _memory;
    private ulong _next;

    public EptTables(PhysicalMemory memory, ulong pool)
    {
        _memory = memory;
        _next = pool;
        Pml4 = Allocate();
    }

    public ulong Pml4 { get; }

    /// <summary>An EPTP for these tables: memory type, walk length 4 (bits 5:3 = 3), A/D enable (SDM vol. 3, table 25-9).</summary>
    public ulong Eptp(bool accessedDirty = false, EptMemoryType type = EptMemoryType.WriteBack) =>
        Pml4 | (ulong)type | (3UL << 3) | (accessedDirty ? 1UL << 6 : 0);

    public ulong Allocate()
    {
        var table = _next;
        _next += 0x1000;
        for (ulong i = 0; i < 0x1000; i += 8) _memory.Write(table + i, 8, 0);
        return table;
    }

    /// <summary>
    /// The address of the entry at <paramref name="level"/> (4 = PML4E, 1 = PTE) that translates
    /// <paramref name="guestPhysical"/>, creating missing tables above it with read/write/execute.
    /// </summary>
    public ulong EntryAddress(ulong guestPhysical, int level)
    {
        var table = Pml4;
        for (var l = 4; ; l--)
        {
            var address = table + (((guestPhysical >> (12 + 9 * (l - 1))) & 0x1FF) << 3);
            if (l == level) return address;
            var entry = _memory.Read(address, 8);
            if ((entry & 7) == 0)
            {
                entry = Allocate() | ReadWriteExecute;
                _memory.Write(address, 8, entry);
            }
            table = entry & AddressMask;
        }
    }

    /// <summary>Maps a page at <paramref name="level"/> (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); returns the leaf's address.</summary>
    public ulong Map(ulong guestPhysical, ulong hostPhysical, int level = 1, ulong permissions = ReadWriteExecute,
        EptMemoryType type = EptMemoryType.WriteBack, bool ignorePat = false)
    {
        var address = EntryAddress(guestPhysical, level);
        _memory.Write(address, 8, hostPhysical | permissions | ((ulong)type << 3) | (ignorePat ? 1UL << 6 : 0) | (level > 1 ? 1UL << 7 : 0));
        return address;
    }

    public ulong this[ulong entryAddress]
    {
        get => _memory.Read(entryAddress, 8);
        set => _memory.Write(entryAddress, 8, value);
    }
}
