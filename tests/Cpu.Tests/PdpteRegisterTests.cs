using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>PAE paging's PDPTE registers (SDM vol. 3, 4.4.1): loaded by MOV to CR3, not read on each walk.</summary>
[TestClass]
public sealed class PdpteRegisterTests
{
    /// <summary>Mapped through PDPTE 1, so that clearing that entry leaves the code, the IDT and the stacks (PDPTE 0) alone.</summary>
    private const ulong Test = 0x40400000;

    [TestMethod]
    public void ChangingAPdpteInMemoryHasNoEffectUntilCr3IsReloaded_4_4_1()
    {
        using var g = new GuestRunner();
        var tables = new PageTableBuilder(g.Memory, PagingMode.Pae);
        tables.IdentityMap(0, 0x100000, RW);
        tables.Map(Test, 0x500000, RW);
        // The guest writes the PDPT itself, so the table area is mapped too.
        tables.IdentityMap(0x200000, 0x10000, RW);
        g.Memory.Write(0x500000, 4, 0x11111111);
        var pdpteAddress = tables.Root + 8;
        g.Code(32, GuestRunner.CodeAddress, a =>
        {
            // Clear PDPTE 1 in memory: the loaded register still maps the page.
            a.mov(__dword_ptr[(uint)pdpteAddress], 0);
            a.mov(eax, __dword_ptr[(uint)Test]);
            a.mov(ebx, eax);
            a.mov(ecx, cr3);
            a.mov(cr3, ecx);
            a.mov(eax, __dword_ptr[(uint)Test]);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, tables);
        g.InstallIdt(32);
        g.Run();
        Assert.AreEqual(0x11111111UL, g.Cpu.Rbx, "the first read used the loaded PDPTE");
        Assert.AreEqual((int)ExceptionVector.PF, g.HaltedVector, "after MOV CR3 the cleared PDPTE is used");
    }

    [TestMethod]
    public void MovToCr3WithReservedBitsInAPresentPdpteRaisesGp_4_4_1()
    {
        using var g = new GuestRunner();
        var tables = new PageTableBuilder(g.Memory, PagingMode.Pae);
        tables.IdentityMap(0, 0x100000, RW);
        const ulong badTable = 0x300000;
        g.Memory.Write(badTable, 8, g.Memory.Read(tables.Root, 8));
        g.Memory.Write(badTable + 8, 8, 0x600000 | P | 0x80);
        g.Code(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(eax, (uint)badTable);
            a.mov(cr3, eax);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, tables);
        g.InstallIdt(32);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(tables.Root, g.Cpu.Cr3, "CR3 is unchanged");
    }
}
