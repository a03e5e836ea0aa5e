using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.PageTableBuilder;

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
}
