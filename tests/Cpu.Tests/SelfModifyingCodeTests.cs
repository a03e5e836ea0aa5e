using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Self- and cross-modifying code: a store to code is seen by the next fetch of it (SDM vol. 3, 11.6).</summary>
[TestClass]
public sealed class SelfModifyingCodeTests
{
    [TestMethod]
    public void StoreToALaterInstructionOfTheSameBlockIsExecuted_11_6()
    {
        using var g = GuestRunner.Protected(a =>
        {
            // The 7-byte store patches the immediate of the MOV AL that follows it.
            a.mov(__byte_ptr[GuestRunner.CodeAddress + 8], 0x42);
            a.mov(al, 0x11);
            a.@out(0xF4, al);
        });
        g.AssertExit(0x42);
    }

    [TestMethod]
    public void StoreThroughAnotherLinearAliasInvalidatesTheDecodedCode_11_6()
    {
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.Pae);
        t.IdentityMap(0, 0x100000, RW);
        t.Map(0x400000, 0x500000, RW);
        t.Map(0x600000, 0x500000, RW);
        g.Load(0x500000, GuestRunner.Assemble(32, 0x400000, a =>
        {
            a.mov(eax, 1);
            a.ret();
        }));
        g.Code(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(ebx, 0x400000);
            a.call(ebx);
            a.mov(ecx, eax);
            a.mov(__byte_ptr[0x600001], 2);
            a.call(ebx);
            a.shl(eax, 4);
            a.add(eax, ecx);
            a.@out(0xF4, al);
        });
        g.StartPaged(GuestRunner.CodeAddress, t);
        g.InstallIdt(32);
        g.AssertExit(0x21);
    }

    [TestMethod]
    public void StoreBesideDecodedCodeLeavesItAndAStoreToAnyLineOfAnInstructionIsSeen_11_6()
    {
        // The routine's MOV EAX, imm32 spans two 64-byte lines (bytes 23Ch-240h); data shares the page at 3F0h.
        const ulong routine = GuestRunner.CodeAddress + 0x23C;
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ebx, (uint)routine);
            a.call(ebx);
            a.mov(ecx, eax);
            a.shr(ecx, 24);
            a.mov(__dword_ptr[GuestRunner.CodeAddress + 0x3F0], 0x55);
            a.call(ebx);
            a.shr(eax, 24);
            a.add(ecx, eax);
            a.mov(__byte_ptr[routine + 4], 5);
            a.call(ebx);
            a.shr(eax, 24);
            a.shl(eax, 4);
            a.add(eax, ecx);
            a.@out(0xF4, al);
        });
        g.Code(32, routine, a =>
        {
            a.mov(eax, 0x01000000);
            a.ret();
        });
        g.AssertExit(0x52);
        Assert.AreEqual(0x55UL, g.Memory.Read(GuestRunner.CodeAddress + 0x3F0, 4));
    }
}
