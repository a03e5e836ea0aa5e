using Sim.Cpu.Memory;
using Sim.Vmx.Ept;

namespace Sim.Microkernels.Kernel;

/// <summary>Builds EPT paging structures (SDM vol. 3, 29.3.2) entry by entry, any memory type, page size or permission.</summary>
public sealed class EptTables : PagingStructureBuilder
{
    public const ulong ReadWriteExecute = 7;

    /// <summary>Tables from <paramref name="pool"/> up, lowest address first.</summary>
    public EptTables(PhysicalMemory memory, ulong pool) : base(Pool(memory, pool))
    {
    }

    public EptTables(KernelMemory tables) : base(tables)
    {
    }

    public ulong Pml4 => Root;

    protected override int TopLevel => 4;

    protected override int EntrySize => 8;

    protected override ulong AddressMask => 0xFF_FFFF_F000UL;

    protected override ulong Index(ulong guestPhysical, int level) => (guestPhysical >> (12 + 9 * (level - 1))) & 0x1FF;

    protected override bool IsPresent(ulong entry) => (entry & 7) != 0;

    protected override ulong TableEntry(ulong table, int level) => table | ReadWriteExecute;

    /// <summary>An EPTP for these tables: memory type, walk length 4 (bits 5:3 = 3), A/D enable (SDM vol. 3, table 25-9).</summary>
    public ulong Eptp(bool accessedDirty = false, EptMemoryType type = EptMemoryType.WriteBack) =>
        Pml4 | (ulong)type | (3UL << 3) | (accessedDirty ? 1UL << 6 : 0);

    /// <summary>Maps a page at <paramref name="level"/> (1: 4 KiB, 2: 2 MiB, 3: 1 GiB); returns the leaf's address.</summary>
    public ulong Map(ulong guestPhysical, ulong hostPhysical, int level = 1, ulong permissions = ReadWriteExecute,
        EptMemoryType type = EptMemoryType.WriteBack, bool ignorePat = false)
    {
        var address = EntryAddress(guestPhysical, level);
        this[address] = hostPhysical | permissions | ((ulong)type << 3) | (ignorePat ? 1UL << 6 : 0) | (level > 1 ? 1UL << 7 : 0);
        return address;
    }
}
