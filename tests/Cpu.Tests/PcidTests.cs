using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

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

    /// <summary>64-bit mode with CR4.PCIDE = 0: INVPCID of <paramref name="type"/> with a descriptor at 8000h, then an exit.</summary>
    private static GuestRunner WithoutPcide(ulong type, ulong pcid, ulong address) => GuestRunner.Long(a =>
    {
        a.mov(rax, pcid);
        a.mov(__qword_ptr[0x8000], rax);
        a.mov(rax, address);
        a.mov(__qword_ptr[0x8008], rax);
        a.mov(rdx, type);
        a.invpcid(rdx, __[0x8000]);
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();
    });

    [TestMethod]
    [DataRow(0UL)]
    [DataRow(1UL)]
    public void InvpcidOfOneAddressOrContextNamesOnlyPcid0WithoutPcide_Vol2Invpcid(ulong type)
    {
        // Vol. 2, INVPCID, #GP(0): "If INVPCID_TYPE is either 0 or 1 and INVPCID_DESC[11:0] is not zero while CR4.PCIDE=0".
        using (var g = WithoutPcide(type, 1, 0x400000))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        using (var g = WithoutPcide(type, 0, 0x400000))
            g.AssertExit(0);
    }

    [TestMethod]
    [DataRow(2UL)]
    [DataRow(3UL)]
    public void InvpcidOfAllContextsIgnoresThePcidWithoutPcide_Vol2Invpcid(ulong type)
    {
        // Types 2 and 3 do not use the descriptor's PCID; only bits 63:12 of it must be zero.
        using (var g = WithoutPcide(type, 0xFFF, 0x0000800000000000))
            g.AssertExit(0);
        using (var g = WithoutPcide(type, 0x1000, 0))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
    }

    [TestMethod]
    public void InvpcidIsNotRecognizedInVirtual8086Mode_Vol2Invpcid()
    {
        // Vol. 2, INVPCID, virtual-8086 mode exceptions: #UD (not #GP for CPL 3).
        using var g = GuestRunner.Protected(a =>
        {
            a.push(0);
            a.push(0);
            a.push(0);
            a.push(0);
            a.push(0x3000);
            a.push(0x0FF0);
            a.push((int)(Rflags.VM | Rflags.Reserved1));
            a.push(0x2000);
            a.push(0x0100);
            a.iretd();
        });
        g.Load(0x20100, GuestRunner.Assemble(16, 0x100, a => a.invpcid(eax, __[0x10])));
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        Assert.AreEqual(0x100UL, g.Stack(0), "the IP of INVPCID");
    }

    [TestMethod]
    public void CpuidEnumeratesInvpcidAndPcid_Vol2Cpuid()
    {
        using var g = new GuestRunner();
        g.Cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
        Assert.AreEqual(Processor.InvpcidEnumerated, (ebx & (1u << 10)) != 0, "CPUID.(EAX=07H,ECX=0):EBX.INVPCID[bit 10]");
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreNotEqual(0u, ecx & (1u << 17), "CPUID.01H:ECX.PCID[bit 17]");
    }

    [TestMethod]
    public void MovCr3WithBit63WithoutPcideRaisesGp_4_10_4_1()
    {
        // Without CR4.PCIDE bit 63 of CR3 is reserved like bits 62:MAXPHYADDR (vol. 2, MOV CR, 64-bit mode #GP(0)).
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rax, cr3);
            a.bts(rax, 63);
            a.mov(cr3, rax);
            a.hlt();
        });
        var before = g.Cpu.Cr3;
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0, 8), "error code");
        Assert.AreEqual(before, g.Cpu.Cr3, "CR3 is unchanged");
    }

    [TestMethod]
    public void MovCr3WithAnAddressBitAboveMaxPhysAddrRaisesGp_Vol2MovCr()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rax, cr3);
            a.bts(rax, Processor.MaxPhysicalAddressBits);
            a.mov(cr3, rax);
            a.hlt();
        });
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
    }
}
