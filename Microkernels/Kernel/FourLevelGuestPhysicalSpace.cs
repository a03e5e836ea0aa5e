using Sim.Cpu.Memory;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// The machinery EPT and nested page tables share: four levels of 512 eight-byte entries, leaves
/// at level 1 (4 KiB) or level 2 (2 MiB, bit 7), tables taken from and given back to a
/// <see cref="KernelMemory"/>. A range that covers an aligned 2 MiB of guest-physical memory
/// backed by aligned contiguous host memory gets one 2 MiB leaf; an unmap or a differing map
/// inside such a leaf splits it into a table of 4 KiB leaves first. A table whose last entry is
/// removed goes back to kernel memory; the root stays.
/// </summary>
/// <remarks>
/// The tables are changed in memory only: the TLBs of processors that ran under them may still
/// hold removed or downgraded translations, so after <see cref="Unmap"/> (or a <see cref="Map"/>
/// that lowers rights) the kernel must invalidate — INVEPT for EPT, an ASID flush (VMCB TLB
/// control) for nested paging — before the guest runs again.
/// </remarks>
public abstract class FourLevelGuestPhysicalSpace : IGuestPhysicalSpace
{
    private const ulong PageSize = PhysicalMemory.PageSize;
    private const ulong LargePageSize = 1UL << 21;
    private const ulong LargePageBit = 1UL << 7;
    private const ulong AddressMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>Guest-physical addresses a four-level walk translates: 48 bits.</summary>
    public const ulong GuestPhysicalLimit = 1UL << 48;

    private readonly KernelMemory _kernelMemory;
    private readonly PhysicalMemory _memory;
    private readonly Dictionary<ulong, int> _presentEntries = new();

    protected FourLevelGuestPhysicalSpace(KernelMemory kernelMemory)
    {
        ArgumentNullException.ThrowIfNull(kernelMemory);
        _kernelMemory = kernelMemory;
        _memory = kernelMemory.Memory;
        Table = AllocateTable();
    }

    /// <summary>The physical address of the top-level table (the PML4).</summary>
    public ulong Table { get; }

    public abstract ulong Root { get; }

    /// <summary>Paging-structure pages this space holds, the root included.</summary>
    public int TablePages => _presentEntries.Count;

    /// <summary>Whether <paramref name="entry"/> maps anything (a table or a page).</summary>
    protected abstract bool IsPresent(ulong entry);

    /// <summary>A non-leaf entry referencing <paramref name="table"/> that grants everything: the rights are the leaf's.</summary>
    protected abstract ulong TableEntry(ulong table);

    /// <summary>A leaf for <paramref name="hostPhysical"/> with <paramref name="rights"/>; <paramref name="large"/> for a 2 MiB page.</summary>
    protected abstract ulong LeafEntry(ulong hostPhysical, GuestPageRights rights, bool large);

    /// <summary>The rights a present leaf grants.</summary>
    protected abstract GuestPageRights RightsOf(ulong leaf);

    /// <summary>Throws when <paramref name="rights"/> cannot be expressed in this format.</summary>
    protected abstract void CheckRights(GuestPageRights rights);

    public void Map(ulong guestPhysical, ulong hostPhysical, ulong size, GuestPageRights rights)
    {
        CheckRange(guestPhysical, size);
        if (hostPhysical % PageSize != 0 || hostPhysical + size < hostPhysical || hostPhysical + size > AddressMask + PageSize)
            throw new ArgumentException($"host-physical {hostPhysical:x} + {size:x} is not a page-aligned range of physical memory");
        CheckRights(rights);
        var end = guestPhysical + size;
        for (var g = guestPhysical; g < end;)
        {
            var h = hostPhysical + (g - guestPhysical);
            if (g % LargePageSize == 0 && h % LargePageSize == 0 && end - g >= LargePageSize)
            {
                MapLarge(g, h, rights);
                g += LargePageSize;
            }
            else
            {
                MapSmall(g, h, rights);
                g += PageSize;
            }
        }
    }

    public void Unmap(ulong guestPhysical, ulong size)
    {
        CheckRange(guestPhysical, size);
        var end = guestPhysical + size;
        var g = guestPhysical;
        Span<ulong> path = stackalloc ulong[5];
        while (g < end)
        {
            path[4] = Table;
            var skipped = false;
            for (var level = 4; level >= 2; level--)
            {
                var entry = Read(EntryAddress(path[level], g, level));
                var span = 1UL << (12 + 9 * (level - 1));
                if (!IsPresent(entry))
                {
                    g = (g & ~(span - 1)) + span;
                    skipped = true;
                    break;
                }
                if (level == 2 && (entry & LargePageBit) != 0)
                {
                    if (g % LargePageSize == 0 && end - g >= LargePageSize)
                    {
                        RemoveEntry(path, g, 2);
                        g += LargePageSize;
                        skipped = true;
                        break;
                    }
                    Split(EntryAddress(path[2], g, 2), entry);
                    entry = Read(EntryAddress(path[2], g, 2));
                }
                path[level - 1] = entry & AddressMask;
            }
            if (skipped) continue;
            if (IsPresent(Read(EntryAddress(path[1], g, 1)))) RemoveEntry(path, g, 1);
            g += PageSize;
        }
    }

    public (ulong HostPhysical, GuestPageRights Rights)? Lookup(ulong guestPhysical)
    {
        if (guestPhysical >= GuestPhysicalLimit) return null;
        var table = Table;
        for (var level = 4; level >= 1; level--)
        {
            var entry = Read(EntryAddress(table, guestPhysical, level));
            if (!IsPresent(entry)) return null;
            if (level == 1 || (level == 2 && (entry & LargePageBit) != 0))
            {
                var pageSize = level == 1 ? PageSize : LargePageSize;
                return ((entry & AddressMask & ~(pageSize - 1)) | (guestPhysical & (pageSize - 1)), RightsOf(entry));
            }
            table = entry & AddressMask;
        }
        return null;
    }

    private static void CheckRange(ulong guestPhysical, ulong size)
    {
        if (size == 0 || (guestPhysical | size) % PageSize != 0)
            throw new ArgumentException($"guest-physical range {guestPhysical:x} + {size:x} is not a non-empty multiple of 4 KiB at a 4 KiB boundary");
        if (guestPhysical + size < guestPhysical || guestPhysical + size > GuestPhysicalLimit)
            throw new ArgumentException($"guest-physical range {guestPhysical:x} + {size:x} exceeds the 48 bits a four-level walk translates");
    }

    private void MapLarge(ulong g, ulong h, GuestPageRights rights)
    {
        var pd = TableAt(g, 2);
        var address = EntryAddress(pd, g, 2);
        var old = Read(address);
        if (IsPresent(old) && (old & LargePageBit) == 0) FreeTable(old & AddressMask);
        else if (!IsPresent(old)) _presentEntries[pd]++;
        Write(address, LeafEntry(h, rights, large: true));
    }

    private void MapSmall(ulong g, ulong h, GuestPageRights rights)
    {
        var pt = TableAt(g, 1);
        var address = EntryAddress(pt, g, 1);
        if (!IsPresent(Read(address))) _presentEntries[pt]++;
        Write(address, LeafEntry(h, rights, large: false));
    }

    /// <summary>The table at <paramref name="level"/> that holds <paramref name="g"/>'s entry, creating missing tables and splitting a 2 MiB leaf on the way.</summary>
    private ulong TableAt(ulong g, int level)
    {
        var table = Table;
        for (var l = 4; l > level; l--)
        {
            var address = EntryAddress(table, g, l);
            var entry = Read(address);
            if (!IsPresent(entry))
            {
                entry = TableEntry(AllocateTable());
                Write(address, entry);
                _presentEntries[table]++;
            }
            else if (l == 2 && (entry & LargePageBit) != 0)
            {
                Split(address, entry);
                entry = Read(address);
            }
            table = entry & AddressMask;
        }
        return table;
    }

    /// <summary>Replaces the 2 MiB leaf at <paramref name="address"/> by a table of 512 4 KiB leaves with the same frames and rights.</summary>
    private void Split(ulong address, ulong leaf)
    {
        var pt = AllocateTable();
        var host = leaf & AddressMask & ~(LargePageSize - 1);
        var rights = RightsOf(leaf);
        for (ulong i = 0; i < 512; i++) Write(pt + i * 8, LeafEntry(host + i * PageSize, rights, large: false));
        _presentEntries[pt] = 512;
        Write(address, TableEntry(pt));
    }

    /// <summary>Clears <paramref name="g"/>'s entry at <paramref name="level"/> in <paramref name="path"/>'s table and frees the tables that become empty.</summary>
    private void RemoveEntry(Span<ulong> path, ulong g, int level)
    {
        for (var l = level; l <= 4; l++)
        {
            var table = path[l];
            Write(EntryAddress(table, g, l), 0);
            if (--_presentEntries[table] > 0 || l == 4) return;
            _presentEntries.Remove(table);
            _kernelMemory.FreePage(table);
        }
    }

    /// <summary>Frees a level-1 table whose entries are all leaves.</summary>
    private void FreeTable(ulong table)
    {
        _presentEntries.Remove(table);
        _kernelMemory.FreePage(table);
    }

    private ulong AllocateTable()
    {
        var page = _kernelMemory.AllocatePage()
            ?? throw new KernelMemoryExhaustedException("kernel memory has no page left for a guest-physical paging structure");
        _presentEntries[page] = 0;
        return page;
    }

    private static ulong EntryAddress(ulong table, ulong g, int level) => table + (((g >> (12 + 9 * (level - 1))) & 0x1FF) << 3);

    private ulong Read(ulong address) => _memory.Read(address, 8);

    private void Write(ulong address, ulong value) => _memory.Write(address, 8, value);
}
