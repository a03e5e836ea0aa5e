using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Process-context identifiers (SDM vol. 3, 4.10.1 and 4.10.4.1; INVPCID in vol. 2).</summary>
[TestClass]
public sealed class PcidTests
{
    private const ulong Test = 0x400000;

    /// <summary>4-level paging with CR4.PCIDE set and CR3 in PCID 1; the guest remaps <see cref="Test"/> and then runs <paramref name="invalidate"/>.</summary>
    private static GuestRunner Remapping(Action<Iced.Intel.Assembler, ulong> invalidate)
    {
        var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, 0x100000, RW);
        t.IdentityMap(0x200000, 0x10000, RW);
        t.Map(Test, 0x500000, RW);
        g.Memory.Write(0x500000, 8, 0x1111);
        g.Memory.Write(0x501000, 8, 0x2222);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rax, cr3);
            a.or(rax, 1);
            a.mov(cr3, rax);
            a.mov(rbx, Test);
            a.mov(rsi, __qword_ptr[rbx]);
            a.mov(rcx, t.EntryAddress(Test, 1));
            a.mov(__qword_ptr[rcx], 0x501003);
            invalidate(a, t.Root);
            a.mov(rdi, __qword_ptr[rbx]);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, cr4Extra: Cr4.PCIDE);
        g.InstallIdt(64);
        return g;
    }

    [TestMethod]
    public void MovCr3WithoutBit63InvalidatesTheNewPcidsEntries_4_10_4_1()
    {
        using var g = Remapping((a, root) =>
        {
            a.mov(rax, root | 1);
            a.mov(cr3, rax);
        });
        g.Run();
        Assert.AreEqual(0x1111UL, g.Cpu.Rsi);
        Assert.AreEqual(0x2222UL, g.Cpu.Rdi, "the entry of PCID 1 was invalidated");
        Assert.AreEqual(1UL, g.Cpu.Cr3 & 0xFFF, "CR3 holds PCID 1");
    }

    [TestMethod]
    public void MovCr3WithBit63KeepsCr3Bit63Clear_4_10_4_1()
    {
        using var g = Remapping((a, root) =>
        {
            a.mov(rax, (1UL << 63) | root | 2);
            a.mov(cr3, rax);
        });
        g.Run();
        Assert.AreEqual(0x2222UL, g.Cpu.Rdi, "PCID 2 had no entry for the page and walks the changed tables");
        Assert.AreEqual(2UL, g.Cpu.Cr3 & 0xFFF);
        Assert.AreEqual(0UL, g.Cpu.Cr3 >> 63, "bit 63 is not stored in CR3");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void InvpcidOfEachTypeInvalidatesTheMapping_Vol2Invpcid(int type)
    {
        using var g = Remapping((a, _) =>
        {
            // The INVPCID descriptor at 0x8000: PCID 1 and the linear address.
            a.mov(__qword_ptr[0x8000], 1);
            a.mov(rax, Test);
            a.mov(__qword_ptr[0x8008], rax);
            a.mov(rdx, (ulong)type);
            a.invpcid(rdx, __[0x8000]);
        });
        g.Run();
        Assert.AreEqual(0x2222UL, g.Cpu.Rdi);
    }

    [TestMethod]
    [DataRow(4, 1UL, 0x400000UL)]
    [DataRow(1, 0x1000UL, 0x400000UL)]
    [DataRow(0, 1UL, 0x0000800000000000UL)]
    public void InvpcidRejectsBadTypesPcidsAndAddresses_Vol2Invpcid(int type, ulong pcid, ulong address)
    {
        using var g = Remapping((a, _) =>
        {
            a.mov(rax, pcid);
            a.mov(__qword_ptr[0x8000], rax);
            a.mov(rax, address);
            a.mov(__qword_ptr[0x8008], rax);
            a.mov(rdx, (ulong)type);
            a.invpcid(rdx, __[0x8000]);
        });
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
    }
}
