using System.Runtime.CompilerServices;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Virtualization;

namespace Sim.Vmx.Ept;

/// <summary>
/// Translates guest-physical addresses through the EPT paging structures rooted at
/// <see cref="Eptp"/> (SDM vol. 3, 29.3): 4-level walks with read/write/execute permissions,
/// 2-MiB and 1-GiB pages, accessed and dirty flags when EPTP bit 6 enables them, the memory type,
/// and for a refused access the <see cref="LastFault"/> that the VM exit reports.
/// </summary>
public sealed class EptTranslator(PhysicalMemory memory) : IGuestPhysicalTranslator
{
    private const ulong EntryRead = 1;
    private const ulong EntryWrite = 2;
    private const ulong EntryExecute = 4;
    private const ulong EntryIgnorePat = 1UL << 6;
    private const ulong EntryLargePage = 1UL << 7;
    private const ulong EntryAccessed = 1UL << 8;
    private const ulong EntryDirty = 1UL << 9;

    private const ulong EptpAccessedDirty = 1UL << 6;

    /// <summary>Bits N-1:12 of an entry or the EPTP: the physical address of the next structure or page.</summary>
    private const ulong AddressMask = ((1UL << Processor.MaxPhysicalAddressBits) - 1) & ~0xFFFUL;

    /// <summary>Bits 51:N, reserved in every EPT paging-structure entry (SDM vol. 3, 29.3.2).</summary>
    private const ulong ReservedAboveWidth = ((1UL << 52) - 1) & ~((1UL << Processor.MaxPhysicalAddressBits) - 1);

    private const bool ExecuteOnlySupported = (EptVpidCapability.Value & EptVpidCapability.ExecuteOnly) != 0;
    private const bool Pages1GbSupported = (EptVpidCapability.Value & EptVpidCapability.Pdpte1GbPages) != 0;
    private const bool Pages2MbSupported = (EptVpidCapability.Value & EptVpidCapability.Pde2MbPages) != 0;

    private const ulong QualificationRead = 1UL << 0;
    private const ulong QualificationWrite = 1UL << 1;
    private const ulong QualificationFetch = 1UL << 2;
    private const int QualificationRightsShift = 3;
    private const ulong QualificationLinearValid = 1UL << 7;
    private const ulong QualificationFinalTranslation = 1UL << 8;
    private const ulong QualificationUserMode = 1UL << 9;
    private const ulong QualificationWritablePage = 1UL << 10;
    private const ulong QualificationExecuteDisablePage = 1UL << 11;

    private readonly PhysicalMemory _memory = memory;

    /// <summary>The EPT pointer of the running guest (VMCS field 201AH).</summary>
    public ulong Eptp { get; set; }

    /// <summary>The refusal of the most recent <see cref="Translate"/> that returned false.</summary>
    public EptFault LastFault { get; private set; }

    /// <summary>The EPT memory type (bits 5:3 of the leaf entry, SDM vol. 3, 29.3.7) of the most recent successful translation.</summary>
    public EptMemoryType MemoryType { get; private set; }

    /// <summary>The ignore-PAT bit (bit 6 of the leaf entry) of the most recent successful translation.</summary>
    public bool IgnorePat { get; private set; }

    /// <summary>Whether an EPTP passes the VM-entry checks of SDM vol. 3, 27.2.1.1 against <see cref="EptVpidCapability.Value"/>.</summary>
    public static bool IsValidEptp(ulong eptp)
    {
        const ulong capability = EptVpidCapability.Value;
        var memoryTypeSupported = (eptp & 7) switch
        {
            (ulong)EptMemoryType.Uncacheable => (capability & EptVpidCapability.UncacheableStructures) != 0,
            (ulong)EptMemoryType.WriteBack => (capability & EptVpidCapability.WriteBackStructures) != 0,
            _ => false,
        };
        if (!memoryTypeSupported) return false;
        // Bits 5:3 hold the walk length minus one; only 4-level walks are reported.
        if (((eptp >> 3) & 7) != 3 || (capability & EptVpidCapability.PageWalkLength4) == 0) return false;
        if ((eptp & EptpAccessedDirty) != 0 && (capability & EptVpidCapability.AccessedDirtyFlags) == 0) return false;
        const ulong reserved = 0xF80UL | ~((1UL << Processor.MaxPhysicalAddressBits) - 1);
        return (eptp & reserved) == 0;
    }

    [SkipLocalsInit]
    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        hostPhysical = 0;
        var accessedDirty = (Eptp & EptpAccessedDirty) != 0;
        var pagingStructure = (access & GuestPhysicalAccess.PagingStructure) != 0;
        var linearValid = (access & GuestPhysicalAccess.LinearValid) != 0;
        // SDM vol. 3, 29.3.3.2 and 29.3.5: with A/D flags enabled, accesses to guest paging structures
        // are writes for EPT; PDPTE loads by MOV to CR (no linear address) stay reads.
        var pagingStructureWrite = accessedDirty && pagingStructure && linearValid;
        var write = (access & GuestPhysicalAccess.Write) != 0 || pagingStructureWrite;
        var fetch = (access & GuestPhysicalAccess.Fetch) != 0;
        var read = (access & GuestPhysicalAccess.Read) != 0;

        Span<ulong> entryAddresses = stackalloc ulong[4];
        var table = Eptp & AddressMask;
        var rights = EntryRead | EntryWrite | EntryExecute;
        var used = 0;
        ulong leaf;
        ulong pageSize;
        var level = 4;
        while (true)
        {
            var shift = 12 + 9 * (level - 1);
            var entryAddress = table | (((guestPhysical >> shift) & 0x1FF) << 3);
            var entry = _memory.Read(entryAddress, 8);
            var permissions = entry & 7;
            rights &= permissions;
            if (permissions == 0)
                return Violation(cpu, guestPhysical, linear, linearValid, pagingStructure, read, write, fetch, pagingStructureWrite, 0);
            var isLeaf = level == 1 || ((level == 3 && Pages1GbSupported) || (level == 2 && Pages2MbSupported)) && (entry & EntryLargePage) != 0;
            if (Misconfigured(entry, level, isLeaf))
                return Misconfiguration(guestPhysical);
            entryAddresses[used++] = entryAddress;
            if (isLeaf)
            {
                leaf = entry;
                pageSize = 1UL << shift;
                break;
            }
            table = entry & AddressMask;
            level--;
        }

        // SDM vol. 3, 29.3.3.2: each kind of access needs its permission in every entry used.
        if ((read && (rights & EntryRead) == 0) || (write && (rights & EntryWrite) == 0) || (fetch && (rights & EntryExecute) == 0))
            return Violation(cpu, guestPhysical, linear, linearValid, pagingStructure, read, write, fetch, pagingStructureWrite, rights);

        if (accessedDirty)
        {
            // SDM vol. 3, 29.3.5: the accessed flag in every entry used, the dirty flag in the leaf on a write.
            for (var i = 0; i < used - 1; i++) SetFlags(entryAddresses[i], EntryAccessed);
            SetFlags(entryAddresses[used - 1], write ? EntryAccessed | EntryDirty : EntryAccessed);
        }
        MemoryType = (EptMemoryType)((leaf >> 3) & 7);
        IgnorePat = (leaf & EntryIgnorePat) != 0;
        hostPhysical = (leaf & AddressMask & ~(pageSize - 1)) | (guestPhysical & (pageSize - 1));
        return true;
    }

    /// <summary>The misconfigurations of SDM vol. 3, 29.3.3.1 for a present entry at <paramref name="level"/> (4 = PML4E).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Misconfigured(ulong entry, int level, bool isLeaf)
    {
        var permissions = entry & 7;
        // Write-only (010b) and write/execute (110b): writable but not readable.
        if ((permissions & (EntryRead | EntryWrite)) == EntryWrite) return true;
        if (permissions == EntryExecute && !ExecuteOnlySupported) return true;
        if ((entry & ReservedAboveWidth) != 0) return true;
        if (!isLeaf)
        {
            // Bits 7:3 of a PML4E and of entries referencing a table are reserved (SDM vol. 3, tables 29-1, 29-3, 29-5).
            return (entry & 0xF8) != 0;
        }
        if (level == 3 && (entry & 0x3FFFF000UL) != 0) return true;
        if (level == 2 && (entry & 0x1FF000UL) != 0) return true;
        var memoryType = (entry >> 3) & 7;
        return memoryType is 2 or 3 or 7;
    }

    private bool Misconfiguration(ulong guestPhysical)
    {
        LastFault = new EptFault(true, guestPhysical, 0, false, 0);
        return false;
    }

    /// <summary>An EPT violation with the exit qualification of SDM vol. 3, table 28-7, bits 0-11.</summary>
    private bool Violation(Processor cpu, ulong guestPhysical, ulong linear, bool linearValid, bool pagingStructure,
        bool read, bool write, bool fetch, bool pagingStructureWrite, ulong rights)
    {
        var qualification = (read ? QualificationRead : 0) | (write ? QualificationWrite : 0) | (fetch ? QualificationFetch : 0)
            // A guest paging-structure access that counts as a write reports both a read and a write.
            | (pagingStructureWrite ? QualificationRead | QualificationWrite : 0)
            // Bits 5:3: the AND of the read/write/execute bits over the entries used, 0 past a not-present one.
            | (rights << QualificationRightsShift);
        if (linearValid)
        {
            qualification |= QualificationLinearValid;
            if (!pagingStructure)
            {
                qualification |= QualificationFinalTranslation;
                // Advanced VM-exit information (bits 9-11): the guest's own translation of the linear address.
                if (cpu.TranslationUserMode) qualification |= QualificationUserMode;
                if (cpu.TranslationWritable) qualification |= QualificationWritablePage;
                if (cpu.TranslationExecuteDisable) qualification |= QualificationExecuteDisablePage;
            }
        }
        LastFault = new EptFault(false, guestPhysical, linearValid ? linear : 0, linearValid, qualification);
        return false;
    }

    private void SetFlags(ulong entryAddress, ulong flags)
    {
        var entry = _memory.Read(entryAddress, 8);
        if ((entry & flags) != flags) _memory.Write(entryAddress, 8, entry | flags);
    }
}
