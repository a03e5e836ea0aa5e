using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>
/// Reserved bits in paging-structure entries (SDM vol. 3, 4.3–4.5 and tables 4-4 to 4-20): a set
/// reserved bit in a present entry gives #PF with RSVD (bit 3) and P (bit 0) in the error code
/// (4.7); a not-present entry is not checked; the walk stops at the first entry with a reserved bit.
/// </summary>
[TestClass]
public sealed class PagingReservedBitTests
{
    private const ulong Small = 0x400000;
    private const ulong Large = 0x800000;
    private const ulong Huge = 0x40000000;

    /// <summary>In PML4 slot 1, so that its PML4E and PDPTE map nothing else (code, tables and the IDT are in slot 0).</summary>
    private const ulong Far = 0x80_0000_0000;
    private const uint PfP = 1, PfW = 2, PfU = 4, PfRsvd = 8, PfId = 16;
    private const int M = Processor.MaxPhysicalAddressBits;

    private static ulong Bit(int n) => 1UL << n;

    /// <summary>Identity-maps the low MiB, maps <see cref="Small"/> (4 KiB), <see cref="Large"/> (4 MiB or 2 MiB) and, with 4-level paging, <see cref="Huge"/> (1 GiB) and <see cref="Far"/> (4 KiB), then lets <paramref name="edit"/> change entries.</summary>
    private static GuestRunner Guest(PagingMode mode, Action<PageTableBuilder> edit, Action<Assembler> access, ulong efer = 0, ulong cr4 = 0)
    {
        var g = new GuestRunner();
        var bits = mode == PagingMode.FourLevel ? 64 : 32;
        var t = new PageTableBuilder(g.Memory, mode);
        t.IdentityMap(0, 0x100000, RW);
        t.Map(Small, 0x500000, RW);
        t.MapLarge(Large, mode == PagingMode.Bits32 ? 0xC00000UL : 0xA00000UL, RW);
        if (mode == PagingMode.FourLevel)
        {
            t.MapLarge(Huge, 0, RW, level: 3);
            t.Map(Far, 0x600000, RW);
        }
        edit(t);
        g.Code(bits, GuestRunner.CodeAddress, a =>
        {
            access(a);
            a.mov(al, 0);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, Cr0.WP, cr4, efer);
        g.InstallIdt(bits);
        return g;
    }

    private static Action<Assembler> Load(PagingMode mode, ulong linear) => a =>
    {
        if (mode == PagingMode.FourLevel) { a.mov(rbx, linear); a.mov(eax, __dword_ptr[rbx]); }
        else { a.mov(ebx, (uint)linear); a.mov(eax, __dword_ptr[ebx]); }
    };

    private static Action<Assembler> Store(PagingMode mode, ulong linear) => a =>
    {
        if (mode == PagingMode.FourLevel) { a.mov(rbx, linear); a.mov(__dword_ptr[rbx], eax); }
        else { a.mov(ebx, (uint)linear); a.mov(__dword_ptr[ebx], eax); }
    };

    private static void SetBits(PageTableBuilder t, ulong linear, int level, ulong bits) => t.Write(linear, level, t.Read(linear, level) | bits);

    private static void AssertPageFault(GuestRunner g, uint errorCode, ulong cr2)
    {
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(errorCode, (uint)g.Stack(0, g.Cpu.CodeBitness == 64 ? 8 : 4), "error code");
        Assert.AreEqual(cr2, g.Cpu.Cr2, "CR2");
    }

    private static void AssertNoFault(GuestRunner g) =>
        Assert.AreEqual(StopReason.StopRequested, g.Run(), $"RIP={g.Cpu.Rip:x} vector={g.HaltedVector}");

    [TestMethod]
    public void CpuidAnnouncesTheAddressWidthAndPageSizesTheWalkUses_Vol2Cpuid()
    {
        using var g = new GuestRunner();
        g.Cpu.Cpuid(0x80000008, 0, out var eax, out _, out _, out _);
        Assert.AreEqual((uint)M, eax & 0xFF, "CPUID.80000008H:EAX[7:0] is MAXPHYADDR");
        g.Cpu.Cpuid(0x80000001, 0, out _, out _, out _, out var edx);
        Assert.AreEqual(Processor.OneGigabytePages, (edx & Bit(26)) != 0, "CPUID.80000001H:EDX.Page1GB");
        g.Cpu.Cpuid(1, 0, out _, out _, out _, out edx);
        Assert.AreNotEqual(0u, edx & (uint)Bit(17), "PSE-36, which gives 4-MByte PDEs their bits 20:13");
    }

    /// <summary>Each row: paging mode, the linear address accessed, the level of the entry changed (1 = PTE), the bits set in it, EFER.NXE.</summary>
    [TestMethod]
    // Table 4-4: bit 21 of a 4-MByte PDE is reserved with MAXPHYADDR = 40 (bits 20:13 are address bits 39:32).
    [DataRow(PagingMode.Bits32, Large, 2, 1UL << 21, false)]
    // Table 4-8: a PAE PDE mapping 2 MBytes has bits 20:13 reserved; 62:MAXPHYADDR are reserved in every PAE entry (4-9 to 4-11).
    [DataRow(PagingMode.Pae, Large, 2, 1UL << 13, false)]
    [DataRow(PagingMode.Pae, Large, 2, 1UL << 20, false)]
    [DataRow(PagingMode.Pae, Small, 2, 1UL << 62, false)]
    [DataRow(PagingMode.Pae, Small, 2, 1UL << M, false)]
    [DataRow(PagingMode.Pae, Small, 1, 1UL << 52, false)]
    // Table 4-11: XD is reserved without EFER.NXE, also in a PDE.
    [DataRow(PagingMode.Pae, Small, 2, 1UL << 63, false)]
    // Table 4-15: PS is reserved in a PML4E; 51:MAXPHYADDR are reserved at every level, XD without NXE.
    [DataRow(PagingMode.FourLevel, Far, 4, 1UL << 7, false)]
    [DataRow(PagingMode.FourLevel, Far, 4, 1UL << 51, false)]
    [DataRow(PagingMode.FourLevel, Far, 3, 1UL << M, false)]
    [DataRow(PagingMode.FourLevel, Small, 2, 1UL << 45, false)]
    [DataRow(PagingMode.FourLevel, Small, 1, 1UL << 63, false)]
    [DataRow(PagingMode.FourLevel, Far, 4, 1UL << 63, false)]
    // Table 4-16: bits 29:13 of a PDPTE mapping 1 GByte; table 4-18: bits 20:13 of a PDE mapping 2 MBytes.
    [DataRow(PagingMode.FourLevel, Huge, 3, 1UL << 13, false)]
    [DataRow(PagingMode.FourLevel, Huge, 3, 1UL << 29, false)]
    [DataRow(PagingMode.FourLevel, Large, 2, 1UL << 13, false)]
    [DataRow(PagingMode.FourLevel, Large, 2, 1UL << 20, false)]
    public void ReservedBitGivesPageFaultWithRsvdAndP_4_7(PagingMode mode, ulong linear, int level, ulong bits, bool nxe)
    {
        using var g = Guest(mode, t => SetBits(t, linear, level, bits), Load(mode, linear + 0x10), efer: nxe ? Efer.NXE : 0);
        AssertPageFault(g, PfP | PfRsvd, linear + 0x10);
    }

    [TestMethod]
    // Table 4-4: bits 20:13 of a 4-MByte PDE are physical-address bits 39:32, not reserved.
    [DataRow(PagingMode.Bits32, Large, 2, 1UL << 13)]
    // Tables 4-15 to 4-20: bits 62:52 are ignored in 4-level entries (unlike PAE, where they are reserved).
    [DataRow(PagingMode.FourLevel, Far, 4, 1UL << 62)]
    [DataRow(PagingMode.FourLevel, Small, 1, 1UL << 52)]
    // Table 4-20: bit 7 of a PTE is PAT; table 4-17: bit 12 of a 1-GByte PDPTE is PAT.
    [DataRow(PagingMode.FourLevel, Small, 1, 1UL << 7)]
    [DataRow(PagingMode.FourLevel, Huge, 3, 1UL << 12)]
    [DataRow(PagingMode.Pae, Large, 2, 1UL << 12)]
    public void BitsThatAreNotReservedDoNotFault_4_3_4_5(PagingMode mode, ulong linear, int level, ulong bits)
    {
        using var g = Guest(mode, t => SetBits(t, linear, level, bits), Load(mode, linear + 0x10));
        AssertNoFault(g);
    }

    [TestMethod]
    public void PsInA32BitPdeIsIgnoredWithoutCr4Pse_4_3()
    {
        // Without CR4.PSE the PDE references a page table whatever its PS flag; its table maps Small.
        using var g = Guest(PagingMode.Bits32, t => SetBits(t, Small, 2, PS), Load(PagingMode.Bits32, Small));
        g.Cpu.LoadControlState(g.Cpu.Cr0, g.Cpu.Cr3, 0, 0);
        g.Memory.Write(0x500000, 4, 0x123400);
        AssertNoFault(g);
        Assert.AreEqual(0x123400UL, g.Cpu.Rax & 0xFFFFFFFF, "read through the page table (the exit cleared AL)");
    }

    [TestMethod]
    public void ExecuteDisableIsNotReservedWithNxe_4_5()
    {
        using var g = Guest(PagingMode.FourLevel, t => SetBits(t, Small, 1, NX), Load(PagingMode.FourLevel, Small), efer: Efer.NXE);
        AssertNoFault(g);
    }

    [TestMethod]
    [DataRow(PagingMode.Pae)]
    [DataRow(PagingMode.FourLevel)]
    public void NotPresentEntryIsNotCheckedForReservedBits_4_7(PagingMode mode)
    {
        // 4.7: RSVD is set only for a present entry; bit 0 clear makes every other bit ignored.
        using var g = Guest(mode, t => t.Write(Small, 1, 0x500000 | Bit(M) | Bit(63) | RW), Load(mode, Small));
        AssertPageFault(g, 0, Small);
    }

    [TestMethod]
    public void WalkStopsAtTheFirstEntryWithAReservedBit_4_7()
    {
        // A reserved bit in the PDE faults with RSVD even though the PTE below it is not present.
        using var g = Guest(PagingMode.FourLevel, t =>
        {
            t.Write(Small, 1, 0);
            SetBits(t, Small, 2, Bit(M));
        }, Load(PagingMode.FourLevel, Small));
        AssertPageFault(g, PfP | PfRsvd, Small);
    }

    [TestMethod]
    public void RsvdFaultReportsTheAccess_4_7()
    {
        using (var g = Guest(PagingMode.Pae, t => SetBits(t, Small, 1, Bit(M)), Store(PagingMode.Pae, Small)))
            AssertPageFault(g, PfP | PfW | PfRsvd, Small);
        // An instruction fetch with NXE sets I/D as well.
        using (var g = Guest(PagingMode.FourLevel, t => SetBits(t, Small, 1, Bit(M)), a =>
        {
            a.mov(rax, Small);
            a.jmp(rax);
        }, efer: Efer.NXE))
            AssertPageFault(g, PfP | PfId | PfRsvd, Small);
    }

    [TestMethod]
    public void UserAccessRsvdFaultHasUs_4_7()
    {
        using var g = Guest(PagingMode.Pae, t =>
        {
            t.Map(GuestRunner.CodeAddress, GuestRunner.CodeAddress, RW | US);
            t.Map(0x7F000, 0x7F000, RW | US);
            t.Write(Small, 1, t.Read(Small, 1) | US | Bit(M));
        }, Load(PagingMode.Pae, Small));
        g.AddUserSegmentsAndTss32();
        g.EnterUser32(GuestRunner.CodeAddress, 0x80000);
        AssertPageFault(g, PfP | PfU | PfRsvd, Small);
    }

    [TestMethod]
    [DataRow(PagingMode.Bits32)]
    [DataRow(PagingMode.Pae)]
    [DataRow(PagingMode.FourLevel)]
    public void FaultingTranslationIsNotCached_4_10_2_1(PagingMode mode)
    {
        // 4.10.2.1: the processor caches only translations that did not fault, so the same access faults again.
        var linear = mode == PagingMode.Bits32 ? Large : Small;
        var level = mode == PagingMode.Bits32 ? 2 : 1;
        using var g = Guest(mode, t => SetBits(t, linear, level, Bit(21) | (mode == PagingMode.Bits32 ? 0 : Bit(M))), Load(mode, linear));
        AssertPageFault(g, PfP | PfRsvd, linear);
        g.Cpu.Rip = GuestRunner.CodeAddress;
        g.Cpu.Rsp = 0x80000;
        g.Cpu.Activity = ActivityState.Active;
        AssertPageFault(g, PfP | PfRsvd, linear);
    }
}
