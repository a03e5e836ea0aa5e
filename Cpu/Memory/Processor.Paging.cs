using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Paging (SDM vol. 3, ch. 4): 32-bit, PAE and 4-level page walks, the PDPTE registers, accessed and dirty bits, and the software TLB fill.</summary>
public sealed unsafe partial class Processor
{
    /// <summary>Physical-address width reported by CPUID 8000_0008h; higher bits in paging entries are reserved.</summary>
    public const int MaxPhysicalAddressBits = 40;
    private const ulong PhysAddrMask = ((1UL << MaxPhysicalAddressBits) - 1) & ~0xFFFUL;

    /// <summary>
    /// 1-GByte pages, as CPUID.80000001H:EDX.Page1GB[bit 26] announces them; without them the PS flag
    /// of a PDPTE is reserved in 4-level paging (SDM vol. 3, table 4-14).
    /// </summary>
    public static readonly bool OneGigabytePages = true;
    private const ulong PtePresent = 1;
    private const ulong PteWrite = 2;
    private const ulong PteUser = 4;
    private const ulong PteAccessed = 0x20;
    private const ulong PteDirty = 0x40;
    private const ulong PteLarge = 0x80;
    private const ulong PteNx = 1UL << 63;
    private const uint PfPresent = 1;
    private const uint PfWrite = 2;
    private const uint PfUser = 4;
    private const uint PfReserved = 8;
    private const uint PfFetch = 16;

    public bool PagingEnabled => (Cr0 & Registers.Cr0.PG) != 0;

    /// <summary>
    /// The software TLB's context: the PCID in CR3[11:0] while CR4.PCIDE is set (else 0), and the
    /// translation tag in bits 62:48.
    /// </summary>
    private ulong _tlbContext;

    private void UpdateTlbContext() =>
        _tlbContext = ((Cr4 & Registers.Cr4.PCIDE) != 0 ? Cr3 & 0xFFF : 0) | ((ulong)_translationTag << 48);

    /// <summary>The four PDPTE registers of PAE paging, loaded from CR3 when PAE paging is set up (SDM vol. 3, 4.4.1).</summary>
    private readonly ulong[] _pdpte = new ulong[4];

    public ulong GetPdpte(int index) => _pdpte[index];

    public void SetPdpte(int index, ulong value)
    {
        _pdpte[index] = value;
        FlushTranslations();
    }

    private static bool PaePaging(ulong cr0, ulong cr4, ulong efer) =>
        (cr0 & Registers.Cr0.PG) != 0 && (cr4 & Registers.Cr4.PAE) != 0 && (efer & Registers.Efer.LMA) == 0;

    /// <summary>
    /// Whether a PAE PDPTE may be loaded: not present, or with bits 2:1, 8:5 and those beyond the
    /// physical-address width clear (SDM vol. 3, 4.4.1; AMD APM vol. 2, 5.3.3).
    /// </summary>
    public static bool IsLegalPdpte(ulong pdpte) =>
        (pdpte & PtePresent) == 0 || (pdpte & (~((1UL << MaxPhysicalAddressBits) - 1) | 0x1E6)) == 0;

    /// <summary>
    /// Loads the PDPTE registers from the table CR3 points to. False, with nothing loaded, when a
    /// present entry has reserved bits set: MOV to CR0, CR3 or CR4 then raises #GP(0).
    /// </summary>
    private bool TryLoadPdptes(ulong cr3)
    {
        Span<ulong> entries = stackalloc ulong[4];
        // The 32-byte table never crosses a page, so one second-level translation covers it.
        var table = (cr3 & 0xFFFFFFE0UL) & _memory.A20Mask;
        if (_secondLevel != null && !_secondLevel.Translate(this, table, GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure, 0, out table))
            return RaiseFault(SecondLevelFaultVector, 0);
        for (var i = 0; i < 4; i++)
        {
            entries[i] = _memory.Read(table + (ulong)(i * 8), 8);
            if (!IsLegalPdpte(entries[i])) return false;
        }
        entries.CopyTo(_pdpte);
        return true;
    }

    /// <summary>
    /// Linear to physical for an access of <paramref name="kind"/>; on success also fills the software
    /// TLB where the page is plain RAM. <paramref name="supervisor"/> marks an implicit supervisor
    /// access (descriptor tables, TSS), which is checked as CPL 0 whatever the CPL.
    /// </summary>
    private bool Translate(ulong linear, SoftwareTlb.Kind kind, bool supervisor, out ulong physical)
    {
        var user = !supervisor && Cpl == 3;
        if (!PagingEnabled)
        {
            physical = linear & 0xFFFFFFFFUL & _memory.A20Mask;
            if (InLongMode) physical = linear & _memory.A20Mask;
            if (_secondLevel != null && !_secondLevel.Translate(this, physical, FinalAccess(kind, user), linear, out physical))
                return RaiseFault(SecondLevelFaultVector, 0);
            Fill(kind, user, linear, physical);
            return true;
        }
        _secondLevelRefused = false;
        if (!Walk(linear, kind, user, supervisor, true, out physical, out var error))
        {
            if (_secondLevelRefused) return RaiseFault(SecondLevelFaultVector, 0);
            _faultAddress = linear;
            return RaiseFault(ExceptionVector.PF, error);
        }
        physical &= _memory.A20Mask;
        if (_secondLevel != null && !_secondLevel.Translate(this, physical, FinalAccess(kind, user), linear, out physical))
            return RaiseFault(SecondLevelFaultVector, 0);
        // Under SMAP a supervisor's right to a user page follows EFLAGS.AC, which STAC and CLAC change without a flush.
        // An implicit supervisor access never reaches such a page, so what it enters serves explicit ones too.
        var smapDependent = !user && _walkUserPage && kind != SoftwareTlb.Kind.Fetch && (Cr4 & Registers.Cr4.SMAP) != 0;
        if (!smapDependent) Fill(kind, user, linear, physical);
        return true;
    }

    private static GuestPhysicalAccess FinalAccess(SoftwareTlb.Kind kind, bool user) =>
        (kind == SoftwareTlb.Kind.Write ? GuestPhysicalAccess.Write : kind == SoftwareTlb.Kind.Fetch ? GuestPhysicalAccess.Fetch : GuestPhysicalAccess.Read)
        | (user ? GuestPhysicalAccess.User : 0) | GuestPhysicalAccess.LinearValid;

    /// <summary>Set when a walk failed because the second-level translator refused a paging-structure access.</summary>
    private bool _secondLevelRefused;

    /// <summary>Whether the last successful walk ended at a page user mode may access (U/S set at every level).</summary>
    private bool _walkUserPage;

    /// <summary>Whether the last successful walk ended at a writable page (R/W set at every level).</summary>
    private bool _walkWritable;

    /// <summary>Whether the last successful walk ended at an execute-disable page (XD set at some level with EFER.NXE).</summary>
    private bool _walkExecuteDisable;

    /// <summary>
    /// The access rights of the linear translation whose final address is being translated by
    /// <see cref="SecondLevel"/> (SDM vol. 3, 4.6): user-mode, writable, execute-disable. With paging
    /// off every linear address is a user-mode, read/write, executable translation. EPT-violation
    /// qualifications report them (SDM vol. 3, table 28-7, bits 9-11).
    /// </summary>
    public bool TranslationUserMode => !PagingEnabled || _walkUserPage;

    /// <inheritdoc cref="TranslationUserMode"/>
    public bool TranslationWritable => !PagingEnabled || _walkWritable;

    /// <inheritdoc cref="TranslationUserMode"/>
    public bool TranslationExecuteDisable => PagingEnabled && _walkExecuteDisable;

    private void Fill(SoftwareTlb.Kind kind, bool user, ulong linear, ulong physical)
    {
        if (!_memory.IsRam(physical) || IsApicPage(physical)) return;
        // A page holding a data breakpoint is left to the slow path, which compares every access.
        if (_dataBreakpointsArmed && kind != SoftwareTlb.Kind.Fetch && DataBreakpointOnPage(linear)) return;
        if (kind == SoftwareTlb.Kind.Write && _memory.IsCodePage(physical >> PhysicalMemory.PageShift))
        {
            Tlb.InsertCodeWrite(user, linear, physical, _tlbContext);
            return;
        }
        Tlb.Insert(kind, user, linear, physical, _tlbContext);
    }

    /// <summary>Translation without side effects (no A/D bits, no fault, no TLB fill), for debuggers.</summary>
    public bool PeekTranslate(ulong linear, out ulong physical)
    {
        if (!PagingEnabled) physical = linear & 0xFFFFFFFFUL & _memory.A20Mask;
        else if (!Walk(linear, SoftwareTlb.Kind.Read, false, true, false, out physical, out _)) return false;
        return _secondLevel == null || _secondLevel.Translate(this, physical, GuestPhysicalAccess.Read | GuestPhysicalAccess.LinearValid, linear, out physical);
    }

    /// <summary>Reads a guest paging-structure entry, through the second-level translation when there is one.</summary>
    private bool TryReadPte(ulong address, bool wide, ulong linear, bool user, out ulong value)
    {
        address &= _memory.A20Mask;
        if (_secondLevel != null && !_secondLevel.Translate(this, address,
                GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure | GuestPhysicalAccess.LinearValid | (user ? GuestPhysicalAccess.User : 0),
                linear, out address))
        {
            _secondLevelRefused = true;
            value = 0;
            return false;
        }
        value = _memory.Read(address, wide ? 8 : 4);
        return true;
    }

    /// <summary>Sets accessed/dirty bits in a guest paging-structure entry; the update is a write for the second-level translation.</summary>
    private bool TrySetPteBits(ulong address, ulong bits, bool wide, ulong linear, bool user)
    {
        address &= _memory.A20Mask;
        var host = address;
        if (_secondLevel != null)
        {
            if (!_secondLevel.Translate(this, address, GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure | GuestPhysicalAccess.LinearValid | (user ? GuestPhysicalAccess.User : 0), linear, out host))
            {
                _secondLevelRefused = true;
                return false;
            }
            var current = _memory.Read(host, wide ? 8 : 4);
            if ((current & bits) == bits) return true;
            if (!_secondLevel.Translate(this, address, GuestPhysicalAccess.Write | GuestPhysicalAccess.PagingStructure | GuestPhysicalAccess.LinearValid | (user ? GuestPhysicalAccess.User : 0), linear, out host))
            {
                _secondLevelRefused = true;
                return false;
            }
        }
        var value = _memory.Read(host, wide ? 8 : 4);
        if ((value & bits) != bits) _memory.Write(host, wide ? 8 : 4, value | bits);
        return true;
    }

    /// <summary>
    /// The page walk of SDM vol. 3 chapter 4 for 32-bit, PAE and 4-level paging: permission checks
    /// (R/W with CR0.WP, U/S, XD with EFER.NXE, SMEP, SMAP), reserved bits, accessed and dirty flags,
    /// and the #PF error code when it fails.
    /// </summary>
    private bool Walk(ulong linear, SoftwareTlb.Kind kind, bool user, bool implicitSupervisor, bool update,
        out ulong physical, out uint error)
    {
        physical = 0;
        var write = kind == SoftwareTlb.Kind.Write;
        var fetch = kind == SoftwareTlb.Kind.Fetch;
        var nxe = (Efer & Registers.Efer.NXE) != 0;
        error = (write ? PfWrite : 0) | (user ? PfUser : 0);
        if (fetch && ((nxe && (Cr4 & Registers.Cr4.PAE) != 0) || (Cr4 & Registers.Cr4.SMEP) != 0)) error |= PfFetch;

        var canWrite = true;
        var canUser = true;
        var noExec = false;
        ulong pageSize;
        ulong frame;

        Span<ulong> entryAddress = stackalloc ulong[5];
        var levels = 0;

        if ((Cr4 & Registers.Cr4.PAE) == 0)
        {
            var pdeAddr = (Cr3 & 0xFFFFF000UL) | ((linear >> 20) & 0xFFC);
            if (!TryReadPte(pdeAddr, false, linear, user, out var pde)) return false;
            if ((pde & PtePresent) == 0) return false;
            canWrite &= (pde & PteWrite) != 0;
            canUser &= (pde & PteUser) != 0;
            entryAddress[levels++] = pdeAddr;
            if ((pde & PteLarge) != 0 && (Cr4 & Registers.Cr4.PSE) != 0)
            {
                // PSE-36: bits 20:13 of a 4-MiB PDE hold physical-address bits 39:32.
                if ((pde & (1UL << 21)) != 0) { error |= PfReserved | PfPresent; return false; }
                frame = (pde & 0xFFC00000UL) | ((pde & 0x1FE000UL) << 19);
                pageSize = 4UL << 20;
                return Finish(linear, pde, pageSize, frame, true, false, ref entryAddress, levels,
                    canWrite, canUser, noExec, write, fetch, user, implicitSupervisor, update, out physical, ref error);
            }
            var pteAddr = (pde & 0xFFFFF000UL) | ((linear >> 10) & 0xFFC);
            if (!TryReadPte(pteAddr, false, linear, user, out var pte)) return false;
            if ((pte & PtePresent) == 0) return false;
            canWrite &= (pte & PteWrite) != 0;
            canUser &= (pte & PteUser) != 0;
            entryAddress[levels++] = pteAddr;
            return Finish(linear, pte, 4096, pte & 0xFFFFF000UL, false, false, ref entryAddress, levels,
                canWrite, canUser, noExec, write, fetch, user, implicitSupervisor, update, out physical, ref error);
        }

        var rsvdHigh = ~((1UL << MaxPhysicalAddressBits) - 1) & ~PteNx & 0x7FFFFFFFFFFFFFFFUL;
        if (!nxe) rsvdHigh |= PteNx;
        // Bits 62:52 are ignored in 4-level entries; in PAE entries bits 62:MAXPHYADDR are all reserved (tables 4-8 to 4-11).
        if (InLongMode) rsvdHigh &= ~(0x7FFUL << 52);
        ulong table;
        int level;
        if (InLongMode)
        {
            table = Cr3 & PhysAddrMask;
            level = 4;
        }
        else
        {
            var pdpte = _pdpte[(linear >> 30) & 3];
            if ((pdpte & PtePresent) == 0) return false;
            if ((pdpte & (rsvdHigh | 0x1E6 | (nxe ? PteNx : 0))) != 0) { error |= PfReserved | PfPresent; return false; }
            table = pdpte & PhysAddrMask;
            level = 2;
        }

        while (true)
        {
            var shift = 12 + 9 * (level - 1);
            var entryAddr = table | (((linear >> shift) & 0x1FF) << 3);
            if (!TryReadPte(entryAddr, true, linear, user, out var entry)) return false;
            if ((entry & PtePresent) == 0) return false;
            var rsvd = rsvdHigh;
            // PS is reserved in a PML4E, and in a PDPTE where 1-GByte pages do not exist (tables 4-14 and 4-15).
            if (level == 4 || (level == 3 && !OneGigabytePages)) rsvd |= PteLarge;
            if ((entry & rsvd) != 0) { error |= PfReserved | PfPresent; return false; }
            canWrite &= (entry & PteWrite) != 0;
            canUser &= (entry & PteUser) != 0;
            noExec |= nxe && (entry & PteNx) != 0;
            entryAddress[levels++] = entryAddr;
            var large = level is 2 or 3 && (entry & PteLarge) != 0;
            if (level == 1 || large)
            {
                pageSize = 1UL << shift;
                if (large)
                {
                    // Bits 12 (PAT) and up to the page size (exclusive) of a large-page entry must be 0 above bit 12.
                    var lowReserved = (pageSize - 1) & ~0x1FFFUL;
                    if ((entry & lowReserved) != 0) { error |= PfReserved | PfPresent; return false; }
                }
                frame = entry & PhysAddrMask & ~(pageSize - 1);
                return Finish(linear, entry, pageSize, frame, large, true, ref entryAddress, levels,
                    canWrite, canUser, noExec, write, fetch, user, implicitSupervisor, update, out physical, ref error);
            }
            table = entry & PhysAddrMask;
            level--;
        }
    }

    private bool Finish(ulong linear, ulong leaf, ulong pageSize, ulong frame, bool large, bool wide,
        ref Span<ulong> entryAddress, int levels, bool canWrite, bool canUser, bool noExec,
        bool write, bool fetch, bool user, bool implicitSupervisor, bool update, out ulong physical, ref uint error)
    {
        physical = 0;
        error |= PfPresent;
        if (user)
        {
            if (!canUser) return false;
            if (write && !canWrite) return false;
        }
        else
        {
            if (write && !canWrite && (Cr0 & Registers.Cr0.WP) != 0) return false;
            if (canUser)
            {
                if (fetch && (Cr4 & Registers.Cr4.SMEP) != 0) return false;
                if (!fetch && (Cr4 & Registers.Cr4.SMAP) != 0 && (implicitSupervisor || Cpl == 3 || (_flags & Rflags.AC) == 0))
                    return false;
            }
        }
        if (fetch && noExec) return false;

        if (update)
        {
            for (var i = 0; i < levels - 1; i++)
                if (!TrySetPteBits(entryAddress[i], PteAccessed, wide, linear, user)) return false;
            if (!TrySetPteBits(entryAddress[levels - 1], write ? PteAccessed | PteDirty : PteAccessed, wide, linear, user)) return false;
        }
        physical = frame | (linear & (pageSize - 1));
        _walkUserPage = canUser;
        _walkWritable = canWrite;
        _walkExecuteDisable = noExec;
        return true;
    }
}
