using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Virtualization;
using Sim.Vmx.Ept;
using static Sim.Vmx.Tests.EptQualification;

namespace Sim.Vmx.Tests;

/// <summary>The EPT walk of SDM vol. 3, 29.3 driven directly; the processor's paging is off, so every linear translation is user-mode, read/write and executable.</summary>
[TestClass]
public sealed class EptTranslatorTests
{
    private const GuestPhysicalAccess Read = GuestPhysicalAccess.Read | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess Write = GuestPhysicalAccess.Write | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess Fetch = GuestPhysicalAccess.Fetch | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess PagingStructureRead = GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess PdpteLoad = GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure;

    private PhysicalMemory _memory = null!;
    private Processor _cpu = null!;
    private EptTables _ept = null!;
    private EptTranslator _translator = null!;

    [TestInitialize]
    public void Setup()
    {
        _memory = new PhysicalMemory(16 << 20);
        _cpu = new Processor(_memory, new TestBus());
        _ept = new EptTables(_memory, 0x800000);
        _translator = new EptTranslator(_memory) { Eptp = _ept.Eptp() };
    }

    [TestCleanup]
    public void Cleanup()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }

    private bool Translate(ulong guestPhysical, GuestPhysicalAccess access, out ulong host, ulong linear = 0x1234) =>
        _translator.Translate(_cpu, guestPhysical, access, linear, out host);

    private void AssertViolation(ulong guestPhysical, GuestPhysicalAccess access, ulong qualification, string because, ulong linear = 0x1234)
    {
        Assert.IsFalse(Translate(guestPhysical, access, out _, linear), because);
        var fault = _translator.LastFault;
        Assert.IsFalse(fault.Misconfiguration, because);
        Assert.AreEqual(guestPhysical, fault.GuestPhysicalAddress, because);
        Assert.AreEqual(qualification, fault.ExitQualification, $"{because}: qualification {fault.ExitQualification:x}, expected {qualification:x}");
        var linearValid = (access & GuestPhysicalAccess.LinearValid) != 0;
        Assert.AreEqual(linearValid, fault.GuestLinearAddressValid, because);
        if (linearValid) Assert.AreEqual(linear, fault.GuestLinearAddress, because);
    }

    private void AssertMisconfiguration(ulong guestPhysical, GuestPhysicalAccess access, string because)
    {
        Assert.IsFalse(Translate(guestPhysical, access, out _), because);
        Assert.IsTrue(_translator.LastFault.Misconfiguration, because);
        Assert.AreEqual(guestPhysical, _translator.LastFault.GuestPhysicalAddress, because);
    }

    [TestMethod]
    public void FourKibPageTranslatesThroughFourLevels()
    {
        _ept.Map(0x5000, 0x9000);
        Assert.IsTrue(Translate(0x5123, Read, out var host));
        Assert.AreEqual(0x9123UL, host);
        Assert.IsTrue(Translate(0x5FFF, Write, out host));
        Assert.AreEqual(0x9FFFUL, host);
        Assert.IsTrue(Translate(0x5000, Fetch, out host));
        Assert.AreEqual(0x9000UL, host);
    }

    [TestMethod]
    public void TwoMibPageTakesBits20To0FromTheGuestPhysicalAddress()
    {
        // SDM vol. 3, 29.3.2: a PDE with bit 7 set maps a 2-MiB page; bits N-1:21 are its address.
        _ept.Map(0x400000, 0xA00000, level: 2);
        Assert.IsTrue(Translate(0x5ABCDE, Read, out var host));
        Assert.AreEqual(0xBABCDEUL, host);
    }

    [TestMethod]
    public void OneGibPageTakesBits29To0FromTheGuestPhysicalAddress()
    {
        // SDM vol. 3, 29.3.2: a PDPTE with bit 7 set maps a 1-GiB page; bits N-1:30 are its address.
        _ept.Map(0x4000_0000, 0x80_0000_0000 - 0x4000_0000, level: 3);
        Assert.IsTrue(Translate(0x7654_3210, Write, out var host));
        Assert.AreEqual(0x7F_F654_3210UL, host);
    }

    [TestMethod]
    public void ReadOfAnExecuteOnlyPageIsAViolationAndTheFetchIsAllowed()
    {
        // Execute-only (100b) is supported (IA32_VMX_EPT_VPID_CAP bit 0), so it is no misconfiguration.
        _ept.Map(0x5000, 0x9000, permissions: 4);
        Assert.IsTrue(Translate(0x5000, Fetch, out _));
        AssertViolation(0x5010, Read, DataRead | Rights(4) | FinalWithPagingOff, "data read of an execute-only page");
    }

    [TestMethod]
    public void WriteToAReadOnlyPageIsAViolation()
    {
        _ept.Map(0x5000, 0x9000, permissions: 1);
        Assert.IsTrue(Translate(0x5000, Read, out _));
        AssertViolation(0x5008, Write, DataWrite | Rights(1) | FinalWithPagingOff, "data write of a read-only page");
    }

    [TestMethod]
    public void FetchFromANonExecutablePageIsAViolation()
    {
        _ept.Map(0x5000, 0x9000, permissions: 3);
        AssertViolation(0x5004, Fetch, InstructionFetch | Rights(3) | FinalWithPagingOff, "instruction fetch from a read/write page");
    }

    [TestMethod]
    public void PermissionsAreTheAndOverAllLevels()
    {
        // SDM vol. 3, 29.3.3.2 and table 28-7 bits 5:3: the write is refused by the PDPTE although the PTE allows it.
        _ept.Map(0x5000, 0x9000);
        var pdpte = _ept.EntryAddress(0x5000, 3);
        _ept[pdpte] = _ept[pdpte] & ~2UL;
        var pde = _ept.EntryAddress(0x5000, 2);
        _ept[pde] = _ept[pde] & ~4UL;
        AssertViolation(0x5000, Write, DataWrite | Rights(1) | FinalWithPagingOff, "write under a read/execute PDPTE and a read/write PDE");
        Assert.IsTrue(Translate(0x5000, Read, out _));
    }

    [TestMethod]
    [DataRow(4, DisplayName = "PML4E")]
    [DataRow(3, DisplayName = "PDPTE")]
    [DataRow(2, DisplayName = "PDE")]
    [DataRow(1, DisplayName = "PTE")]
    public void NotPresentEntryAtEachLevelIsAViolationWithNoRights(int level)
    {
        _ept.Map(0x5000, 0x9000);
        _ept[_ept.EntryAddress(0x5000, level)] = 0;
        // Bits 5:3 are the AND over the entries used, the not-present one included: 0.
        AssertViolation(0x5000, Read, DataRead | FinalWithPagingOff, $"not present at level {level}");
        AssertViolation(0x5000, Write, DataWrite | FinalWithPagingOff, $"not present at level {level}");
        AssertViolation(0x5000, Fetch, InstructionFetch | FinalWithPagingOff, $"not present at level {level}");
    }

    [TestMethod]
    public void GuestPagingStructureAccessClearsBit8AndTheAdvancedBits()
    {
        // Table 28-7: bit 8 is clear for an access to a paging-structure entry; bits 9-11 are defined only with bit 8 set.
        AssertViolation(0x3000, PagingStructureRead, DataRead | LinearValid, "guest paging-structure read", linear: 0x7FFF_1000);
    }

    [TestMethod]
    public void PdpteLoadIsAViolationWithoutALinearAddress()
    {
        // Table 28-7 bit 7 and 27.2.1: PDPTE loads by MOV to CR report no guest-linear address.
        AssertViolation(0x3000, PdpteLoad, DataRead, "PDPTE load");
    }

    [TestMethod]
    [DataRow(4, 2UL, DisplayName = "write-only PML4E")]
    [DataRow(3, 6UL, DisplayName = "write/execute PDPTE")]
    [DataRow(1, 2UL, DisplayName = "write-only PTE")]
    [DataRow(4, 7UL | 1UL << 7, DisplayName = "bit 7 of a PML4E")]
    [DataRow(4, 7UL | 1UL << 3, DisplayName = "bit 3 of a PML4E")]
    [DataRow(3, 7UL | 1UL << 5, DisplayName = "bit 5 of a PDPTE referencing a directory")]
    [DataRow(2, 7UL | 1UL << 4, DisplayName = "bit 4 of a PDE referencing a table")]
    [DataRow(4, 7UL | 1UL << 40, DisplayName = "PML4E address beyond 40 bits")]
    [DataRow(2, 7UL | 1UL << 51, DisplayName = "bit 51 of a PDE")]
    public void MisconfiguredNonLeafOrPermissionEntry(int level, ulong bits)
    {
        // SDM vol. 3, 29.3.3.1; the entry keeps its table address so that only the named bits are wrong.
        _ept.Map(0x5000, 0x9000);
        var address = _ept.EntryAddress(0x5000, level);
        _ept[address] = (_ept[address] & ~0xFFUL) | bits;
        AssertMisconfiguration(0x5000, Read, $"level {level}, bits {bits:x}");
    }

    [TestMethod]
    [DataRow(2UL, DisplayName = "memory type 2")]
    [DataRow(3UL, DisplayName = "memory type 3")]
    [DataRow(7UL, DisplayName = "memory type 7")]
    public void ReservedMemoryTypeInALeafIsAMisconfiguration(ulong type)
    {
        var pte = _ept.Map(0x5000, 0x9000);
        _ept[pte] = (_ept[pte] & ~0x38UL) | (type << 3);
        AssertMisconfiguration(0x5000, Read, $"PTE memory type {type}");
        var pde = _ept.Map(0x400000, 0x400000, level: 2);
        _ept[pde] = (_ept[pde] & ~0x38UL) | (type << 3);
        AssertMisconfiguration(0x400000, Read, $"2-MiB PDE memory type {type}");
    }

    [TestMethod]
    public void ReservedAddressBitsOfLargePagesAreMisconfigurations()
    {
        // Tables 29-2 and 29-4: bits 29:12 of a 1-GiB PDPTE and 20:12 of a 2-MiB PDE are reserved.
        var pdpte = _ept.Map(0x4000_0000, 0x4000_0000, level: 3);
        _ept[pdpte] |= 1UL << 12;
        AssertMisconfiguration(0x4000_0000, Read, "bit 12 of a 1-GiB PDPTE");
        _ept[pdpte] = (_ept[pdpte] & ~(1UL << 12)) | (1UL << 29);
        AssertMisconfiguration(0x4000_0000, Read, "bit 29 of a 1-GiB PDPTE");
        var pde = _ept.Map(0x400000, 0x400000, level: 2);
        _ept[pde] |= 1UL << 20;
        AssertMisconfiguration(0x400000, Read, "bit 20 of a 2-MiB PDE");
        var pte = _ept.Map(0x5000, 0x9000);
        _ept[pte] |= 1UL << 45;
        AssertMisconfiguration(0x5000, Read, "PTE address beyond 40 bits");
    }

    [TestMethod]
    public void MisconfigurationTakesPrecedenceOverAViolation()
    {
        // 29.3.3.2: an EPT violation occurs only for a translation that causes no misconfiguration.
        var pte = _ept.Map(0x5000, 0x9000, permissions: 1);
        _ept[pte] |= 7UL << 3;
        AssertMisconfiguration(0x5000, Write, "write to a read-only page with memory type 7");
    }

    [TestMethod]
    public void IgnoredBitsAreNotMisconfigurations()
    {
        // Bit 7 of a PTE, bits 11:10 and 63:52 of any entry are ignored (tables 29-1 to 29-6, no mode-based execute control).
        var pte = _ept.Map(0x5000, 0x9000);
        _ept[pte] |= 1UL << 7 | 1UL << 11 | 0xFFFUL << 52;
        var pml4e = _ept.EntryAddress(0x5000, 4);
        _ept[pml4e] |= 1UL << 9 | 1UL << 62;
        Assert.IsTrue(Translate(0x5000, Read, out var host));
        Assert.AreEqual(0x9000UL, host);
    }

    [TestMethod]
    public void TablesOnAnOpenBusReadAsAllOnesAndMisconfigure()
    {
        // Nothing decodes 0xF0_0000_0000: the PML4E reads as all ones, whose bits 51:40 are reserved (29.3.3.1).
        _translator.Eptp = 0xF0_0000_0000UL | 6 | 3 << 3;
        AssertMisconfiguration(0x5000, Read, "PML4 table on the open bus");
    }

    [TestMethod]
    [DataRow(EptMemoryType.Uncacheable)]
    [DataRow(EptMemoryType.WriteCombining)]
    [DataRow(EptMemoryType.WriteThrough)]
    [DataRow(EptMemoryType.WriteProtected)]
    [DataRow(EptMemoryType.WriteBack)]
    public void MemoryTypeAndIgnorePatComeFromTheLeaf(EptMemoryType type)
    {
        // 29.3.7: the EPT memory type is bits 5:3 of the entry that maps the page, IPAT its bit 6.
        _ept.Map(0x5000, 0x9000, type: type, ignorePat: true);
        _ept.Map(0x400000, 0x400000, level: 2, type: type);
        Assert.IsTrue(Translate(0x5000, Read, out _));
        Assert.AreEqual(type, _translator.MemoryType);
        Assert.IsTrue(_translator.IgnorePat);
        Assert.IsTrue(Translate(0x400000, Read, out _));
        Assert.AreEqual(type, _translator.MemoryType);
        Assert.IsFalse(_translator.IgnorePat);
    }

    private const ulong Accessed = 1UL << 8, Dirty = 1UL << 9;

    private ulong[] Entries(ulong guestPhysical, int leafLevel) =>
        Enumerable.Range(leafLevel, 5 - leafLevel).Reverse().Select(l => _ept[_ept.EntryAddress(guestPhysical, l)]).ToArray();

    [TestMethod]
    public void AccessedFlagsAreSetAtEveryLevelAndDirtyOnTheLeafForWrites()
    {
        // 29.3.5 with EPTP bit 6 set.
        _translator.Eptp = _ept.Eptp(accessedDirty: true);
        _ept.Map(0x5000, 0x9000);
        _ept.Map(0x400000, 0x400000, level: 2);
        Assert.IsTrue(Translate(0x5000, Read, out _));
        foreach (var e in Entries(0x5000, 1))
        {
            Assert.AreEqual(Accessed, e & Accessed, $"accessed flag in {e:x}");
            Assert.AreEqual(0UL, e & Dirty, $"no dirty flag after a read in {e:x}");
        }
        Assert.IsTrue(Translate(0x5000, Write, out _));
        var entries = Entries(0x5000, 1);
        Assert.AreEqual(Dirty, entries[3] & Dirty, "the PTE is dirty after a write");
        // Bit 9 of a non-leaf entry is ignored and not written.
        Assert.IsTrue(entries.Take(3).All(e => (e & Dirty) == 0));
        Assert.IsTrue(Translate(0x400000, Write, out _));
        entries = Entries(0x400000, 2);
        Assert.IsTrue(entries.All(e => (e & Accessed) != 0));
        Assert.AreEqual(Dirty, entries[2] & Dirty, "the 2-MiB PDE is dirty after a write");
    }

    [TestMethod]
    public void NoFlagsAreWrittenWhenEptpBit6IsClear()
    {
        _ept.Map(0x5000, 0x9000);
        Assert.IsTrue(Translate(0x5000, Write, out _));
        Assert.IsTrue(Entries(0x5000, 1).All(e => (e & (Accessed | Dirty)) == 0));
    }

    [TestMethod]
    public void WithAccessedDirtyFlagsGuestPagingStructureAccessesAreWrites()
    {
        // 29.3.3.2 and 29.3.5: they need write permission, report bits 0 and 1, and set the leaf's dirty flag.
        _translator.Eptp = _ept.Eptp(accessedDirty: true);
        var readOnly = _ept.Map(0x3000, 0x3000, permissions: 1);
        AssertViolation(0x3000, PagingStructureRead, DataRead | DataWrite | Rights(1) | LinearValid, "guest paging-structure read of a read-only page");
        Assert.AreEqual(0UL, _ept[readOnly] & (Accessed | Dirty), "no flags on a refused translation");
        var writable = _ept.Map(0x4000, 0x4000, permissions: 3);
        Assert.IsTrue(Translate(0x4000, PagingStructureRead, out _));
        Assert.AreEqual(Accessed | Dirty, _ept[writable] & (Accessed | Dirty));
        // PDPTE loads are reads and set no dirty flag.
        Assert.IsTrue(Translate(0x3000, PdpteLoad, out _));
        Assert.AreEqual(Accessed, _ept[readOnly] & (Accessed | Dirty));
    }

    [TestMethod]
    public void WithoutAccessedDirtyFlagsGuestPagingStructureReadsAreReads()
    {
        _ept.Map(0x3000, 0x3000, permissions: 1);
        Assert.IsTrue(Translate(0x3000, PagingStructureRead, out var host));
        Assert.AreEqual(0x3000UL, host);
    }

    [TestMethod]
    public void TranslateAllocatesNothing()
    {
        // The walker runs on every TLB miss of a guest: successes, violations and misconfigurations allocate nothing.
        _translator.Eptp = _ept.Eptp(accessedDirty: true);
        _ept.Map(0x5000, 0x9000);
        var misconfigured = _ept.Map(0x6000, 0x9000);
        _ept[misconfigured] |= 7UL << 3;
        void Walks()
        {
            for (var i = 0; i < 100; i++)
            {
                Translate(0x5000, Write, out _);
                Translate(0x6000, Read, out _);
                Translate(0x7000, Fetch, out _);
            }
        }
        Walks();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Walks();
        Assert.AreEqual(0L, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
