using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Svm.Npt;

/// <summary>
/// Translates guest-physical addresses through the nested page tables rooted at
/// <see cref="NCr3"/> (AMD APM vol. 2, 15.25): the walk uses the host's paging mode as it was at
/// VMRUN, with permissions, accessed and dirty flags, and for a refused access the
/// <see cref="LastFault"/> that #VMEXIT(NPF) reports.
/// </summary>
/// <remarks>
/// Every nested access is a user access (15.25.5), so U/S must be set at each level and host
/// CR0.WP plays no part; accesses to the guest's page tables (and PDPE loads) are user writes.
/// </remarks>
public sealed class NestedPageTranslator(PhysicalMemory memory) : IGuestPhysicalTranslator
{
    private const ulong Present = 1;
    private const ulong Writable = 2;
    private const ulong UserBit = 4;
    private const ulong Accessed = 0x20;
    private const ulong Dirty = 0x40;
    private const ulong PageSizeBit = 0x80;
    private const ulong NoExecute = 1UL << 63;

    private const ulong AddressMask = ((1UL << Processor.MaxPhysicalAddressBits) - 1) & ~0xFFFUL;

    /// <summary>Bits 51:MAXPHYADDR of a long-mode entry (bits 62:52 are available to software).</summary>
    private const ulong LongModeReservedHigh = ((1UL << 52) - 1) & ~((1UL << Processor.MaxPhysicalAddressBits) - 1);

    /// <summary>Bits 62:MAXPHYADDR of a PAE entry.</summary>
    private const ulong PaeReservedHigh = ~NoExecute & ~((1UL << Processor.MaxPhysicalAddressBits) - 1);

    /// <summary>Bits 2:1 and 8:5 of a legacy PAE PDPE.</summary>
    private const ulong PdpeReservedLow = 0x1E6;

    /// <summary>The #PF error-code bits EXITINFO1[31:0] carries (APM vol. 2, 8.4.2).</summary>
    private const ulong ErrorPresent = 1, ErrorWrite = 2, ErrorUser = 4, ErrorReserved = 8, ErrorFetch = 16;

    /// <summary>EXITINFO1[32]: the fault arose translating the final guest-physical address.</summary>
    public const ulong FinalAddressFault = 1UL << 32;

    /// <summary>EXITINFO1[33]: the fault arose translating a guest page-table access.</summary>
    public const ulong PageTableFault = 1UL << 33;

    private readonly PhysicalMemory _memory = memory;
    private NestedPagingMode _mode = NestedPagingMode.LongMode;
    private bool _pse;
    private bool _nxe;

    /// <summary>The nested page table base (VMCB offset 0B0h).</summary>
    public ulong NCr3 { get; set; }

    /// <summary>The refusal of the most recent <see cref="Translate"/> that returned false.</summary>
    public NestedPageFault LastFault { get; private set; }

    /// <summary>The table format the walk uses, from the last <see cref="SetHostPagingMode"/>.</summary>
    public NestedPagingMode Mode => _mode;

    /// <summary>Takes the host's paging mode (CR0.WP, CR4.PAE/PSE, EFER.LMA/NXE) that the nested walk uses, as VMRUN saw it.</summary>
    /// <remarks>Host CR0.WP is ignored under nested paging (15.25.5): every nested access is a user access.</remarks>
    public void SetHostPagingMode(ulong cr0, ulong cr4, ulong efer)
    {
        _ = cr0;
        _mode = (efer & Efer.LMA) != 0 ? NestedPagingMode.LongMode
            : (cr4 & Cr4.PAE) != 0 ? NestedPagingMode.Pae
            : NestedPagingMode.Legacy;
        _pse = (cr4 & Cr4.PSE) != 0;
        // NX exists only in the 8-byte formats (APM vol. 2, 5.6.1).
        _nxe = _mode != NestedPagingMode.Legacy && (efer & Efer.NXE) != 0;
    }

    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        // Guest page-table accesses, PDPE loads included, are user writes at the nested level (15.25.5).
        var tableAccess = (access & GuestPhysicalAccess.PagingStructure) != 0;
        var write = tableAccess || (access & GuestPhysicalAccess.Write) != 0;
        var fetch = !tableAccess && (access & GuestPhysicalAccess.Fetch) != 0;
        var error = ErrorUser | (write ? ErrorWrite : 0) | (fetch && _nxe ? ErrorFetch : 0);
        var ok = _mode switch
        {
            NestedPagingMode.LongMode => WalkLongMode(guestPhysical, write, fetch, ref error, out hostPhysical),
            NestedPagingMode.Pae => WalkPae(guestPhysical, write, fetch, ref error, out hostPhysical),
            _ => WalkLegacy(guestPhysical, write, ref error, out hostPhysical),
        };
        if (ok) return true;
        LastFault = new NestedPageFault(error | (tableAccess ? PageTableFault : FinalAddressFault), guestPhysical);
        return false;
    }

    private bool WalkLongMode(ulong gpa, bool write, bool fetch, ref ulong error, out ulong hostPhysical)
    {
        hostPhysical = 0;
        // Four levels translate 48 bits; a wider guest-physical address has no entry to map it.
        if ((gpa >> 48) != 0) return false;
        var reserved = LongModeReservedHigh | (_nxe ? 0 : NoExecute);
        return WalkWide(NCr3 & AddressMask, 4, reserved, gpa, write, fetch, ref error, out hostPhysical);
    }

    private bool WalkPae(ulong gpa, bool write, bool fetch, ref ulong error, out ulong hostPhysical)
    {
        hostPhysical = 0;
        if ((gpa >> 32) != 0) return false;
        // The host's PDPEs are read from nCR3 on each walk: VMRUN does not load them.
        var pdpe = _memory.Read((NCr3 & 0xFFFFFFE0UL) + ((gpa >> 30) & 3) * 8, 8);
        if ((pdpe & Present) == 0) return false;
        if ((pdpe & (PaeReservedHigh | NoExecute | PdpeReservedLow)) != 0)
        {
            error |= ErrorReserved | ErrorPresent;
            return false;
        }
        var reserved = PaeReservedHigh | (_nxe ? 0 : NoExecute);
        return WalkWide(pdpe & AddressMask, 2, reserved, gpa, write, fetch, ref error, out hostPhysical);
    }

    /// <summary>The walk over 8-byte entries from <paramref name="level"/> down (APM vol. 2, 5.3 and 5.4).</summary>
    private bool WalkWide(ulong table, int level, ulong reservedHigh, ulong gpa, bool write, bool fetch, ref ulong error, out ulong hostPhysical)
    {
        hostPhysical = 0;
        Span<ulong> entries = stackalloc ulong[4];
        Span<ulong> values = stackalloc ulong[4];
        var count = 0;
        var canWrite = true;
        var canUser = true;
        var noExecute = false;
        while (true)
        {
            var shift = 12 + 9 * (level - 1);
            var address = table | (((gpa >> shift) & 0x1FF) << 3);
            var entry = _memory.Read(address, 8);
            if ((entry & Present) == 0) return false;
            var reserved = reservedHigh | (level == 4 ? PageSizeBit : 0);
            var large = level is 2 or 3 && (entry & PageSizeBit) != 0;
            var pageSize = 1UL << shift;
            // A large page's frame starts at its size's alignment; bits 12 (PAT) to that are otherwise reserved.
            if (large) reserved |= (pageSize - 1) & ~0x1FFFUL;
            if ((entry & reserved) != 0)
            {
                error |= ErrorReserved | ErrorPresent;
                return false;
            }
            canWrite &= (entry & Writable) != 0;
            canUser &= (entry & UserBit) != 0;
            noExecute |= _nxe && (entry & NoExecute) != 0;
            entries[count] = address;
            values[count++] = entry;
            if (level == 1 || large)
            {
                if (!Permitted(canWrite, canUser, noExecute, write, fetch, ref error)) return false;
                SetAccessedAndDirty(entries[..count], values, true, write);
                hostPhysical = (entry & AddressMask & ~(pageSize - 1)) | (gpa & (pageSize - 1));
                return true;
            }
            table = entry & AddressMask;
            level--;
        }
    }

    /// <summary>The legacy two-level walk over 4-byte entries, with 4-MiB pages under host CR4.PSE (APM vol. 2, 5.3).</summary>
    private bool WalkLegacy(ulong gpa, bool write, ref ulong error, out ulong hostPhysical)
    {
        hostPhysical = 0;
        if ((gpa >> 32) != 0) return false;
        Span<ulong> entries = stackalloc ulong[2];
        Span<ulong> values = stackalloc ulong[2];
        var pdeAddress = (NCr3 & 0xFFFFF000UL) | ((gpa >> 20) & 0xFFC);
        var pde = _memory.Read(pdeAddress, 4);
        if ((pde & Present) == 0) return false;
        entries[0] = pdeAddress;
        values[0] = pde;
        if ((pde & PageSizeBit) != 0 && _pse)
        {
            // PSE-36: PDE bits 20:13 hold physical-address bits 39:32; bit 21 is reserved at MAXPHYADDR 40.
            if ((pde & (1UL << 21)) != 0)
            {
                error |= ErrorReserved | ErrorPresent;
                return false;
            }
            if (!Permitted((pde & Writable) != 0, (pde & UserBit) != 0, false, write, false, ref error)) return false;
            SetAccessedAndDirty(entries[..1], values, false, write);
            hostPhysical = (pde & 0xFFC00000UL) | ((pde & 0x1FE000UL) << 19) | (gpa & 0x3FFFFF);
            return true;
        }
        var pteAddress = (pde & 0xFFFFF000UL) | ((gpa >> 10) & 0xFFC);
        var pte = _memory.Read(pteAddress, 4);
        if ((pte & Present) == 0) return false;
        entries[1] = pteAddress;
        values[1] = pte;
        if (!Permitted((pde & pte & Writable) != 0, (pde & pte & UserBit) != 0, false, write, false, ref error)) return false;
        SetAccessedAndDirty(entries, values, false, write);
        hostPhysical = (pte & 0xFFFFF000UL) | (gpa & 0xFFF);
        return true;
    }

    /// <summary>
    /// The combined rights of the walk for a user access (15.25.5, 15.25.7): U/S and, for writes,
    /// R/W at every level, and no NX on a fetch. A refusal here is a protection fault (P set).
    /// </summary>
    private static bool Permitted(bool canWrite, bool canUser, bool noExecute, bool write, bool fetch, ref ulong error)
    {
        error |= ErrorPresent;
        if (!canUser) return false;
        if (write && !canWrite) return false;
        if (fetch && noExecute) return false;
        return true;
    }

    /// <summary>
    /// Sets the accessed flag in every entry of a successful walk and, for a write, the dirty flag in
    /// the last one, the way the host's own page walk does (APM vol. 2, 5.4.2). <paramref name="values"/>
    /// holds the entries as the walk read them, so that flags already set cost no further read.
    /// </summary>
    private void SetAccessedAndDirty(ReadOnlySpan<ulong> entries, ReadOnlySpan<ulong> values, bool wide, bool write)
    {
        var size = wide ? 8 : 4;
        for (var i = 0; i < entries.Length; i++)
        {
            var bits = i == entries.Length - 1 && write ? Accessed | Dirty : Accessed;
            if ((values[i] & bits) == bits) continue;
            var value = _memory.Read(entries[i], size);
            if ((value & bits) != bits) _memory.Write(entries[i], size, value | bits);
        }
    }
}
