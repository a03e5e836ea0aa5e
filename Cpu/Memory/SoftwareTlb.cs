using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sim.Cpu.Memory;

/// <summary>
/// The software TLB: direct-mapped caches from a linear page to the host address of the RAM page it
/// maps, kept separately for reads, writes and instruction fetches and for supervisor and user
/// accesses, so that an access on the fast path is one compare and one add. An entry exists only
/// where the access is permitted and the accessed/dirty bits are already set; everything else (MMIO,
/// pages holding decoded code for writes, faults) takes the slow path through the page walk. Writes
/// to pages holding decoded code have entries of their own, which the slow path uses instead of the
/// walk: such a write must reach <see cref="PhysicalMemory.Write"/>, which drops the code it hits.
/// Entries are tagged with the address-space context: the PCID in bits 11:0 and the translation
/// tag (VPID/EPTP or ASID, chosen by a virtualization unit) in bits 62:48, combined with the
/// linear page by XOR. A canonical page keeps bit 47 equal to bit 63, so no tag collides with
/// another page's or with <see cref="Invalid"/>, and switching contexts keeps the others' entries.
/// </summary>
internal sealed unsafe class SoftwareTlb : IDisposable
{
    public const int EntryCount = 512;
    private const int Arrays = 9;
    /// <summary>Bit 63 set with bit 47 clear and all PCID bits: no canonical page XOR a context gives it.</summary>
    private const ulong Invalid = 0x8000_0000_0000_0FFFUL;

    [StructLayout(LayoutKind.Sequential)]
    public struct Entry
    {
        /// <summary>Linear address of the page XOR the context, or <see cref="Invalid"/>.</summary>
        public ulong Tag;

        /// <summary>Host address minus linear address, for the page.</summary>
        public long Delta;

        public ulong PhysicalPage;

        /// <summary>The context the entry was made in (PCID | tag &lt;&lt; 48).</summary>
        public ulong Context;
    }

    public enum Kind { Read = 0, Write = 1, Fetch = 2 }

    private readonly PhysicalMemory _memory;
    private Entry* _entries;

    public SoftwareTlb(PhysicalMemory memory)
    {
        _memory = memory;
        _entries = (Entry*)NativeMemory.AlignedAlloc((nuint)(sizeof(Entry) * EntryCount * Arrays), 64);
        FlushAll();
        SelectPrivilege(false);
    }

    public Entry* Read;
    public Entry* Write;
    public Entry* Fetch;

    /// <summary>The supervisor read entries, for implicit supervisor-mode accesses (descriptor tables, TSS) at any CPL.</summary>
    public Entry* SupervisorRead => _entries;

    /// <summary>The supervisor write entries, as <see cref="SupervisorRead"/>.</summary>
    public Entry* SupervisorWrite => _entries + 2 * EntryCount;

    /// <summary>The write entries of pages that held decoded code when they were made, for supervisor or user accesses.</summary>
    public Entry* CodeWrite(bool user) => _entries + (3 * 2 + (user ? 1 : 0)) * EntryCount;

    /// <summary>An array no translation is ever entered in: every access through it takes the slow path.</summary>
    public Entry* Unfilled => _entries + 8 * EntryCount;

    /// <summary>Selects the supervisor or the user arrays for the current privilege level.</summary>
    public void SelectPrivilege(bool user)
    {
        var u = user ? 1 : 0;
        Read = _entries + (0 * 2 + u) * EntryCount;
        Write = _entries + (1 * 2 + u) * EntryCount;
        Fetch = _entries + (2 * 2 + u) * EntryCount;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Slot(ulong linear) => (int)(linear >> 12) & (EntryCount - 1);

    public void FlushAll()
    {
        for (var i = 0; i < EntryCount * Arrays; i++) _entries[i].Tag = Invalid;
    }

    /// <summary>Drops the entries for the page of <paramref name="linear"/> in every context.</summary>
    public void FlushPage(ulong linear)
    {
        var slot = Slot(linear);
        var tag = linear & ~0xFFFUL;
        for (var a = 0; a < Arrays; a++)
        {
            ref var e = ref _entries[a * EntryCount + slot];
            if (e.Tag != Invalid && ((e.Tag ^ e.Context) & ~0xFFFUL) == tag) e.Tag = Invalid;
        }
    }

    /// <summary>Drops every entry of one context (PCID within a translation tag).</summary>
    public void FlushContext(ulong context)
    {
        for (var i = 0; i < EntryCount * Arrays; i++)
            if (_entries[i].Tag != Invalid && _entries[i].Context == context) _entries[i].Tag = Invalid;
    }

    /// <summary>Drops every entry of one translation tag, whatever its PCID.</summary>
    public void FlushTag(ulong tag)
    {
        for (var i = 0; i < EntryCount * Arrays; i++)
            if (_entries[i].Tag != Invalid && _entries[i].Context >> 48 == tag) _entries[i].Tag = Invalid;
    }

    /// <summary>Drops the write entries that reach physical page <paramref name="physicalPage"/> directly.</summary>
    public void DropWritableHost(ulong physicalPage)
    {
        for (var u = 0; u < 2; u++)
        {
            var array = _entries + (1 * 2 + u) * EntryCount;
            for (var i = 0; i < EntryCount; i++)
                if (array[i].Tag != Invalid && array[i].PhysicalPage == physicalPage) array[i].Tag = Invalid;
        }
    }

    public void Insert(Kind kind, bool user, ulong linear, ulong physical, ulong context) =>
        Insert(_entries + ((int)kind * 2 + (user ? 1 : 0)) * EntryCount, linear, physical, context);

    /// <summary>Enters a write translation to a page holding decoded code in <see cref="CodeWrite"/>.</summary>
    public void InsertCodeWrite(bool user, ulong linear, ulong physical, ulong context) =>
        Insert(CodeWrite(user), linear, physical, context);

    private void Insert(Entry* array, ulong linear, ulong physical, ulong context)
    {
        var page = physical & ~0xFFFUL;
        ref var e = ref array[Slot(linear)];
        e.Tag = (linear & ~0xFFFUL) ^ context;
        e.Context = context;
        e.PhysicalPage = page;
        e.Delta = (long)(_memory.RamBase + page) - (long)(linear & ~0xFFFUL);
    }

    public void Dispose()
    {
        if (_entries == null) return;
        NativeMemory.AlignedFree(_entries);
        _entries = null;
        GC.SuppressFinalize(this);
    }

    ~SoftwareTlb() => Dispose();
}
