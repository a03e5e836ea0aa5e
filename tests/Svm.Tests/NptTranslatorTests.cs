using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Svm.Npt;
using static Sim.Microkernels.Kernel.NptTables;

namespace Sim.Svm.Tests;

/// <summary>
/// The nested walk of AMD APM vol. 2, 15.25 over the table formats of chapter 5, driven directly.
/// Error codes: P = 1, RW = 2, US = 4, RSV = 8, ID = 16 (8.4.2); nested accesses are always user
/// accesses, guest page-table accesses user writes (15.25.5); EXITINFO1 bit 32 marks the final
/// guest-physical address, bit 33 a guest page-table access (15.25.6).
/// </summary>
[TestClass]
public sealed class NptTranslatorTests : IDisposable
{
    private const ulong Final = 1UL << 32, Table = 1UL << 33;
    private const ulong Pool = 0x800000;
    private const GuestPhysicalAccess Read = GuestPhysicalAccess.Read | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess Write = GuestPhysicalAccess.Write | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess Fetch = GuestPhysicalAccess.Fetch | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess TableRead = GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure | GuestPhysicalAccess.LinearValid;
    private const GuestPhysicalAccess PdpteLoad = GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure;

    private readonly PhysicalMemory _memory = new(16 << 20);
    private readonly Processor _cpu;
    private readonly NestedPageTranslator _npt;

    public NptTranslatorTests()
    {
        _cpu = new Processor(_memory, new TestBus());
        _npt = new NestedPageTranslator(_memory);
    }

    public void Dispose()
    {
        _cpu.Dispose();
        _memory.Dispose();
    }

    private NptTables LongMode(bool nxe = true)
    {
        var t = new NptTables(_memory, Pool);
        _npt.NCr3 = t.Root;
        _npt.SetHostPagingMode(Cr0.PE | Cr0.PG, Cr4.PAE, Efer.LME | Efer.LMA | (nxe ? Efer.NXE : 0));
        return t;
    }

    private ulong Translated(ulong gpa, GuestPhysicalAccess access)
    {
        Assert.IsTrue(_npt.Translate(_cpu, gpa, access, 0, out var host), $"0x{gpa:x} refused: {_npt.LastFault}");
        return host;
    }

    private void AssertFault(ulong gpa, GuestPhysicalAccess access, ulong exitInfo1, string because)
    {
        Assert.IsFalse(_npt.Translate(_cpu, gpa, access, 0, out _), because);
        Assert.AreEqual(exitInfo1, _npt.LastFault.ExitInfo1, $"EXITINFO1 0x{_npt.LastFault.ExitInfo1:x}: {because}");
        Assert.AreEqual(gpa, _npt.LastFault.ExitInfo2, "EXITINFO2 is the guest-physical address (15.25.6)");
    }

    [TestMethod]
    public void FourKilobytePageInLongMode()
    {
        var t = LongMode();
        t.Map4K(0x123000, 0x456000);
        Assert.AreEqual(0x456ABCUL, Translated(0x123ABC, Read));
        Assert.AreEqual(0x456FF8UL, Translated(0x123FF8, Write));
        Assert.AreEqual(_npt.Mode, NestedPagingMode.LongMode);
    }

    [TestMethod]
    public void TwoMegabyteAndOneGigabytePages()
    {
        var t = LongMode();
        t.MapLarge(0x200000, 0xA00000, 2);
        t.MapLarge(0x40000000, 0xC0000000, 3);
        Assert.AreEqual(0xA12345UL, Translated(0x212345, Read), "a PDE with PS maps 2 MiB (5.3.4)");
        Assert.AreEqual(0xC0000000UL + 0x3456789, Translated(0x43456789, Fetch), "a PDPE with PS maps 1 GiB (5.3.5)");
        // The highest frame below MAXPHYADDR = 40 is allowed.
        t.MapLarge(0x80000000, 0xFFC0000000, 3);
        Assert.AreEqual(0xFFC0000010UL, Translated(0x80000010, Read));
    }

    [TestMethod]
    public void NotPresentAtEachLevelIsAFaultWithPClear()
    {
        for (var level = 1; level <= 4; level++)
        {
            var t = LongMode();
            t.Map4K(0x5000, 0x5000);
            t.SetEntry(0x5000, level, t.Entry(0x5000, level) & ~P);
            AssertFault(0x5123, Read, Final | US, $"level {level} not present: P = 0, US = 1 as every nested access is a user access");
            AssertFault(0x5123, Write, Final | US | RW, $"level {level}");
        }
    }

    [TestMethod]
    public void WriteToAReadOnlyPageIsAProtectionFault()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, P | US);
        Assert.AreEqual(0x9010UL, Translated(0x7010, Read));
        AssertFault(0x7010, Write, Final | P | RW | US, "R/W clear in the PTE");
    }

    [TestMethod]
    public void ReadOnlyAtAnUpperLevelRestrictsThePage()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 3, t.Entry(0x7000, 3) & ~RW);
        Assert.AreEqual(0x9000UL, Translated(0x7000, Read));
        AssertFault(0x7000, Write, Final | P | RW | US, "rights combine over all levels (5.6, 15.25.7)");
    }

    [TestMethod]
    public void SupervisorOnlyPagesRefuseEveryNestedAccess()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, P | RW);
        AssertFault(0x7000, Read, Final | P | US, "nested accesses are user accesses (15.25.5)");
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 4, t.Entry(0x7000, 4) & ~US);
        AssertFault(0x7000, Read, Final | P | US, "U/S clear in the PML4E");
    }

    [TestMethod]
    public void HostCr0WpIsIgnored()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, P | US);
        _npt.SetHostPagingMode(Cr0.PE | Cr0.PG, Cr4.PAE, Efer.LME | Efer.LMA);
        AssertFault(0x7000, Write, Final | P | RW | US, "WP clear does not open a read-only nested page (15.25.5)");
    }

    [TestMethod]
    public void FetchFromANoExecutePage()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, Rwu | NX);
        Assert.AreEqual(0x9000UL, Translated(0x7000, Read));
        AssertFault(0x7000, Fetch, Final | P | US | 16, "NX with host EFER.NXE: ID set (5.6.1, 8.4.2)");
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 2, t.Entry(0x7000, 2) | NX);
        AssertFault(0x7000, Fetch, Final | P | US | 16, "NX in the PDE forbids the page");
        t.SetEntry(0x7000, 2, t.Entry(0x7000, 2) & ~NX);
        t.SetEntry(0x7000, 1, t.Entry(0x7000, 1) & ~P);
        AssertFault(0x7000, Fetch, Final | US | 16, "a not-present fetch also reports ID");
    }

    [TestMethod]
    public void NoExecuteBitIsReservedWithoutHostNxe()
    {
        var t = LongMode(nxe: false);
        t.Map4K(0x7000, 0x9000, Rwu | NX);
        AssertFault(0x7000, Read, Final | P | US | 8, "bit 63 is reserved when EFER.NXE = 0 (5.3.x)");
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 1, t.Entry(0x7000, 1) & ~P);
        AssertFault(0x7000, Fetch, Final | US, "without NXE a fetch does not set ID");
    }

    [TestMethod]
    public void ReservedBitsAreRsvFaults()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 1, t.Entry(0x7000, 1) | (1UL << 40));
        AssertFault(0x7000, Read, Final | P | US | 8, "bits 51:MAXPHYADDR (40) are reserved");
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 4, t.Entry(0x7000, 4) | PS);
        AssertFault(0x7000, Write, Final | P | RW | US | 8, "PS is reserved in a PML4E");
        t.SetEntry(0x7000, 4, t.Entry(0x7000, 4) & ~PS);
        t.MapLarge(0x400000, 0x600000 | 0x2000, 2);
        AssertFault(0x400000, Read, Final | P | US | 8, "bits 20:13 of a 2-MiB PDE are reserved");
        t.MapLarge(0x40000000, 0x40000000 | 0x200000, 3);
        AssertFault(0x40000000, Read, Final | P | US | 8, "bits 29:13 of a 1-GiB PDPE are reserved");
        t.Map4K(0x8000, 0x9000);
        t.SetEntry(0x8000, 1, t.Entry(0x8000, 1) | (0x7FFUL << 52));
        Assert.AreEqual(0x9000UL, Translated(0x8000, Read), "bits 62:52 are available to software");
    }

    [TestMethod]
    public void AccessedAndDirtyFlagsAreWrittenToTheNestedTables()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000);
        t.Map4K(0x8000, 0xA000);
        Translated(0x7000, Read);
        for (var level = 1; level <= 4; level++) Assert.AreEqual(A, t.Entry(0x7000, level) & (A | D), $"a read sets A, not D, at level {level}");
        Translated(0x7000, Write);
        Assert.AreEqual(A | D, t.Entry(0x7000, 1) & (A | D), "a write sets D in the PTE");
        for (var level = 2; level <= 4; level++) Assert.AreEqual(A, t.Entry(0x7000, level) & (A | D), "D exists only in the leaf");
        Translated(0x8000, TableRead);
        Assert.AreEqual(A | D, t.Entry(0x8000, 1) & (A | D), "a guest page-table read is a user write at the nested level (15.25.5)");
        t.MapLarge(0x200000, 0x200000, 2);
        Translated(0x200000, Write);
        Assert.AreEqual(A | D, t.Entry(0x200000, 2) & (A | D), "D in a 2-MiB PDE");
    }

    [TestMethod]
    public void AFaultLeavesTheFlagsAlone()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, P | US);
        AssertFault(0x7000, Write, Final | P | RW | US, "read-only");
        Assert.AreEqual(0UL, t.Entry(0x7000, 1) & (A | D));
    }

    [TestMethod]
    public void GuestPageTableAccessesSetBit33AndAreWrites()
    {
        var t = LongMode();
        t.Map4K(0x7000, 0x9000, P | US);
        Assert.AreEqual(0x9000UL, Translated(0x7000, Read));
        AssertFault(0x7000, TableRead, Table | P | RW | US, "a read of a guest PTE needs write permission (15.25.5)");
        AssertFault(0x7000, PdpteLoad, Table | P | RW | US, "a PDPE load is a guest page-table access");
        AssertFault(0x3000, TableRead | GuestPhysicalAccess.User, Table | RW | US, "not present while walking the guest's tables");
        AssertFault(0x3000, Read | GuestPhysicalAccess.User, Final | US, "not present for the final address");
    }

    [TestMethod]
    public void AddressesBeyondTheWalkAreNotPresent()
    {
        var t = LongMode();
        t.Map4K(0, 0);
        AssertFault(1UL << 48, Read, Final | US, "four levels translate 48 bits");
    }

    [TestMethod]
    public void NestedTablesBeyondRamReadAsOpenBus()
    {
        LongMode();
        _npt.NCr3 = 0x40000000;
        AssertFault(0x7000, Read, Final | P | US | 8, "an entry read from no memory is all ones: present with reserved bits set, and nothing throws");
    }

    [TestMethod]
    public void PaeHostWalk()
    {
        var t = new NptTables(_memory, Pool, NestedPagingMode.Pae);
        _npt.NCr3 = t.Root;
        _npt.SetHostPagingMode(Cr0.PE | Cr0.PG, Cr4.PAE, Efer.NXE);
        Assert.AreEqual(NestedPagingMode.Pae, _npt.Mode);
        t.Map4K(0xC0001000, 0x3000);
        t.MapLarge(0x40200000, 0x600000, 2);
        Assert.AreEqual(0x3123UL, Translated(0xC0001123, Write), "PDPE 3, PDE, PTE (5.3.3)");
        Assert.AreEqual(0x6ABCDEUL, Translated(0x402ABCDE, Fetch), "2-MiB page under PDPE 1");
        Assert.AreEqual(A | D, t.Entry(0xC0001000, 1) & (A | D));
        AssertFault(0x80000000, Read, Final | US, "PDPE 2 not present");
        t.SetEntry(0xC0001000, 3, t.Entry(0xC0001000, 3) | RW);
        AssertFault(0xC0001000, Read, Final | P | US | 8, "R/W is reserved in a legacy PAE PDPE");
        t.SetEntry(0xC0001000, 3, t.Entry(0xC0001000, 3) & ~RW);
        t.SetEntry(0xC0001000, 1, t.Entry(0xC0001000, 1) | (1UL << 52));
        AssertFault(0xC0001000, Read, Final | P | US | 8, "bits 62:MAXPHYADDR are reserved in PAE entries");
        t.Map4K(0xC0001000, 0x3000, Rwu | NX);
        AssertFault(0xC0001000, Fetch, Final | P | US | 16, "NX with NXE in PAE");
    }

    [TestMethod]
    public void LegacyHostWalkWithPse()
    {
        var t = new NptTables(_memory, Pool, NestedPagingMode.Legacy);
        _npt.NCr3 = t.Root;
        _npt.SetHostPagingMode(Cr0.PE | Cr0.PG, Cr4.PSE, Efer.NXE);
        Assert.AreEqual(NestedPagingMode.Legacy, _npt.Mode);
        t.Map4K(0x7000, 0x9000);
        Assert.AreEqual(0x9ABCUL, Translated(0x7ABC, Fetch), "no NX in 4-byte entries, so no ID either");
        Assert.AreEqual(A, t.Entry(0x7000, 1) & (A | D));
        Assert.AreEqual(0x9000UL, Translated(0x7000, Write));
        Assert.AreEqual(A | D, t.Entry(0x7000, 1) & (A | D), "4-byte PTE: D on a write");
        Assert.AreEqual(A, t.Entry(0x7000, 2) & (A | D));
        // PSE-36: PDE bits 20:13 hold physical-address bits 39:32 of a 4-MiB page (5.3.2).
        t.MapLarge(0x800000, 0xC00000 | (0x12UL << 13), 2);
        Assert.AreEqual(0x12_00C1_2345UL, Translated(0x812345, Read));
        t.MapLarge(0x800000, 0xC00000 | (1UL << 21), 2);
        AssertFault(0x800000, Read, Final | P | US | 8, "PDE bit 21 is reserved at MAXPHYADDR 40");
        t.Map4K(0x7000, 0x9000, P | US);
        AssertFault(0x7000, Write, Final | P | RW | US, "read-only 4-byte PTE");
        AssertFault(0x100000000, Read, Final | US, "32-bit tables translate 32 bits");
    }

    [TestMethod]
    public void LegacyHostWithoutPseIgnoresPageSize()
    {
        var t = new NptTables(_memory, Pool, NestedPagingMode.Legacy);
        _npt.NCr3 = t.Root;
        _npt.SetHostPagingMode(Cr0.PE | Cr0.PG, 0, 0);
        t.Map4K(0x7000, 0x9000);
        t.SetEntry(0x7000, 2, t.Entry(0x7000, 2) | PS);
        Assert.AreEqual(0x9000UL, Translated(0x7000, Read), "without CR4.PSE the PDE's PS bit is ignored (5.3.2)");
    }
}
