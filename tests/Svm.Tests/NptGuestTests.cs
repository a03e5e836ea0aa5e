using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Svm.Npt;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// Guest programs on a bare processor with the nested-page translator as its second level: the
/// processor must translate every guest-physical access (guest page-table entries, PDPE loads,
/// final addresses, fetches, everything with paging off) and report refusals as SecondLevelFault.
/// The nested tables start empty; the hooks map each page on its first NPF (APM vol. 2, 15.25.6).
/// </summary>
[TestClass]
public sealed class NptGuestTests
{
    private const ulong Final = NestedPageTranslator.FinalAddressFault, Table = NestedPageTranslator.PageTableFault;
    private const ulong P = 1, RW = 2, US = 4, ID = 16;

    private static void AssertFaults(NptGuest g, params (ulong Info1, ulong Info2)[] expected)
    {
        var actual = g.Hooks.Faults.Select(f => (f.ExitInfo1, f.ExitInfo2)).ToArray();
        CollectionAssert.AreEqual(expected, actual,
            "NPFs: " + string.Join(", ", actual.Select(f => $"(0x{f.ExitInfo1:x}, 0x{f.ExitInfo2:x})")));
        Assert.AreEqual(expected.Length, g.Hooks.Kinds.Count(k => k == InterceptKind.SecondLevelFault), "one SecondLevelFault intercept per refusal");
    }

    [TestMethod]
    public void LongModeGuestReachesMemoryOnlyThroughTheNestedTables()
    {
        using var g = new NptGuest();
        g.Code(64, 0x10000, a =>
        {
            a.mov(ecx, 0x1234);
            a.mov(rax, __qword_ptr[0x20000]);
            a.mov(rbx, __qword_ptr[0x21000]);
            a.mov(__qword_ptr[0x21000], rcx);
            a.hlt();
        });
        g.WriteGuest(0x20000, 8, 0x1111);
        g.WriteGuest(0x21000, 8, 0x2222);
        g.Memory.Write(0x20000, 8, 0xBAD);
        g.StartLong(0x10000);

        Assert.AreEqual(StopReason.Halted, g.Run());

        // The fetch's guest walk reads the PML4E, PDPE, PDE and PTE, each a user write at the nested
        // level (bit 33, RW, US); then the fetch itself (bit 32, ID with host NXE), the read, the
        // read of the second page (mapped read-only) and the write to it (a protection fault).
        AssertFaults(g,
            (Table | RW | US, 0x100000), (Table | RW | US, 0x101000), (Table | RW | US, 0x102000), (Table | RW | US, 0x103000 + 0x10 * 8),
            (Final | US | ID, 0x10000),
            (Final | US, 0x20000),
            (Final | US, 0x21000),
            (Final | P | RW | US, 0x21000));
        Assert.AreEqual(0x1111UL, g.Cpu.Rax, "the read went to host-physical 0x420000");
        Assert.AreEqual(0x2222UL, g.Cpu.Rbx);
        Assert.AreEqual(0x1234UL, g.ReadGuest(0x21000, 8), "the write went to host-physical 0x421000");
        Assert.AreEqual(0UL, g.Memory.Read(0x21000, 8));
        Assert.AreEqual(NptTables.A | NptTables.D, g.Tables.Entry(0x103000, 1) & (NptTables.A | NptTables.D), "the guest page table's nested PTE is dirty");
        Assert.AreEqual(NptTables.A, g.Tables.Entry(0x20000, 1) & (NptTables.A | NptTables.D), "read only: accessed, not dirty");
        Assert.AreEqual(NptTables.A | NptTables.D, g.Tables.Entry(0x21000, 1) & (NptTables.A | NptTables.D));
        Assert.AreEqual(0x67UL, g.ReadGuest(0x103000 + 0x21 * 8, 8) & 0x67, "the guest's own PTE got A and D through the nested map");
        const GuestPhysicalAccess Linear = GuestPhysicalAccess.LinearValid, Walk = GuestPhysicalAccess.PagingStructure;
        foreach (var access in new[]
                 {
                     (0x103080UL, GuestPhysicalAccess.Read | Walk | Linear), (0x103080UL, GuestPhysicalAccess.Write | Walk | Linear),
                     (0x10000UL, GuestPhysicalAccess.Fetch | Linear), (0x20000UL, GuestPhysicalAccess.Read | Linear),
                     (0x21000UL, GuestPhysicalAccess.Write | Linear),
                 })
            CollectionAssert.Contains(g.Recorder.Accesses, access, $"the processor asks for (0x{access.Item1:x}, {access.Item2})");
    }

    [TestMethod]
    public void WithGuestPagingOffEveryAccessIsAFinalAddress()
    {
        using var g = new NptGuest();
        g.Code(16, 0x7C00, a =>
        {
            a.mov(ax, __word_ptr[0x5000]);
            a.mov(__word_ptr[0x6002], ax);
            a.hlt();
        });
        g.WriteGuest(0x5000, 2, 0xBEEF);
        g.StartReal(0x7C00);

        Assert.AreEqual(StopReason.Halted, g.Run());

        AssertFaults(g, (Final | US | ID, 0x7C00), (Final | US, 0x5000), (Final | RW | US, 0x6002));
        Assert.AreEqual(0xBEEFUL, g.ReadGuest(0x6002, 2));
    }

    [TestMethod]
    public void PdpeLoadOfAPaeGuestIsAGuestPageTableAccess()
    {
        using var g = new NptGuest();
        // PAE guest: PDPT at 0x100000 (and a copy at 0x100100), PD at 0x101000 mapping 2 MiB pages.
        foreach (var pdpt in new ulong[] { 0x100000, 0x100100 })
            for (ulong i = 0; i < 4; i++) g.WriteGuest(pdpt + i * 8, 8, i == 0 ? 0x101000UL | 1 : 0UL);
        g.WriteGuest(0x101000, 8, 0x83 | 4);
        g.Code(32, 0x10000, a =>
        {
            a.mov(eax, 0x100100);
            a.mov(cr3, eax);
            a.hlt();
        });
        g.Tables.MapRange(0x20000, NptGuest.Offset);
        g.Attach();
        g.Cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, 0x100000, Cr4.PAE, Efer.NXE);
        g.Cpu.LoadPdptes(0x101000 | 1, 0, 0, 0);
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x08, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            g.Cpu.SetSegment(s, new SegmentRegister { Selector = 0x10, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        g.Cpu.Rip = 0x10000;

        Assert.AreEqual(StopReason.Halted, g.Run());

        // The PDE read (the PDPE comes from the register), then MOV CR3 loading the new PDPEs.
        AssertFaults(g, (Table | RW | US, 0x101000), (Table | RW | US, 0x100100));
        Assert.AreEqual(0x100100UL, g.Cpu.Cr3);
        CollectionAssert.Contains(g.Recorder.Accesses, (0x100100UL, GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure),
            "a PDPE load has no linear address");
    }
}
