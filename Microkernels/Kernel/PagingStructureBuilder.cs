using Sim.Cpu.Memory;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// Builds paging structures entry by entry in simulated memory: <see cref="EntryAddress"/> finds
/// the entry that translates an address at a level, creating the tables above it from a
/// <see cref="KernelMemory"/>. For structures of any shape, rule-breaking ones included (the set-up
/// of bare-metal guests and hypervisor tests); <see cref="EptSpace"/> and <see cref="NptSpace"/>
/// build well-formed guest-physical spaces from mappings instead.
/// </summary>
public abstract class PagingStructureBuilder
{
    private readonly KernelMemory _tables;

    protected PagingStructureBuilder(KernelMemory tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        _tables = tables;
        Memory = tables.Memory;
        Root = Allocate();
    }

    /// <summary>A window of <paramref name="memory"/> from <paramref name="pool"/> to the end of RAM, tables taken lowest address first.</summary>
    protected static KernelMemory Pool(PhysicalMemory memory, ulong pool)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (pool >= memory.RamSize) throw new ArgumentException($"the table pool at {pool:x} lies outside RAM", nameof(pool));
        return new KernelMemory(memory, pool, memory.RamSize - pool);
    }

    public PhysicalMemory Memory { get; }

    /// <summary>The top-level table.</summary>
    public ulong Root { get; }

    /// <summary>The level of the top-level table (4 = PML4).</summary>
    protected abstract int TopLevel { get; }

    protected abstract int EntrySize { get; }

    /// <summary>Bits of a non-leaf entry that hold the next table's address.</summary>
    protected abstract ulong AddressMask { get; }

    /// <summary>The index of <paramref name="address"/>'s entry in a table at <paramref name="level"/>.</summary>
    protected abstract ulong Index(ulong address, int level);

    protected abstract bool IsPresent(ulong entry);

    /// <summary>The entry at <paramref name="level"/> that references a new <paramref name="table"/>.</summary>
    protected abstract ulong TableEntry(ulong table, int level);

    /// <summary>A zeroed page for a table.</summary>
    public ulong Allocate() =>
        _tables.AllocatePage() ?? throw new KernelMemoryExhaustedException("the table pool has no page left for a paging structure");

    /// <summary>
    /// The address of the entry at <paramref name="level"/> (1 = the last level) that translates
    /// <paramref name="address"/>, creating missing tables above it.
    /// </summary>
    public ulong EntryAddress(ulong address, int level)
    {
        if (level < 1 || level > TopLevel) throw new ArgumentOutOfRangeException(nameof(level), $"levels run from 1 to {TopLevel}");
        var table = Root;
        for (var l = TopLevel; ; l--)
        {
            var entryAddress = table + Index(address, l) * (ulong)EntrySize;
            if (l == level) return entryAddress;
            var entry = Memory.Read(entryAddress, EntrySize);
            if (!IsPresent(entry))
            {
                entry = TableEntry(Allocate(), l);
                Memory.Write(entryAddress, EntrySize, entry);
            }
            table = entry & AddressMask;
        }
    }

    /// <summary>The entry at <paramref name="entryAddress"/>.</summary>
    public ulong this[ulong entryAddress]
    {
        get => Memory.Read(entryAddress, EntrySize);
        set => Memory.Write(entryAddress, EntrySize, value);
    }
}
