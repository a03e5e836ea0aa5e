using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Instructions whose bytes straddle a page boundary.</summary>
[TestClass]
public sealed class CrossPageInstructionTests
{
    private const ulong Boundary = 0x21000;

    /// <summary>A 10-byte MOV RAX, imm64 starting 3 bytes before <see cref="Boundary"/>, run in a loop.</summary>
    private static byte[] StraddlingLoop() => GuestRunner.Assemble(64, Boundary - 3, a =>
    {
        var loop = a.CreateLabel();
        a.Label(ref loop);
        a.mov(rax, 0x1122334455667788UL);
        a.add(rbx, rax);
        a.dec(ecx);
        a.jnz(loop);
        a.hlt();
    });

    [TestMethod]
    public void AStraddlingInstructionRunsEveryIteration()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(ecx, 1000);
            a.xor(ebx, ebx);
            a.mov(rdx, Boundary - 3);
            a.jmp(rdx);
        });
        g.Load(Boundary - 3, StraddlingLoop());
        g.Run();
        Assert.AreEqual(unchecked(0x1122334455667788UL * 1000), g.Cpu.Rbx);
    }

    [TestMethod]
    public void AMissingSecondPageRaisesPageFaultWithCr2OnThatPage_6_15()
    {
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        // Everything below 1 MiB (code, IDT, stubs, stack) except the page at the boundary.
        t.IdentityMap(0, Boundary, RW);
        t.IdentityMap(Boundary + 0x1000, 0x100000 - Boundary - 0x1000, RW);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rdx, Boundary - 3);
            a.jmp(rdx);
        });
        g.Load(Boundary - 3, StraddlingLoop());
        g.StartPaged(GuestRunner.CodeAddress, t);
        g.InstallIdt(64);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(Boundary, g.Cpu.Cr2, "CR2 names the page the fetch could not reach");
        Assert.AreEqual(0UL, g.Stack(0, 8), "error code: not present, supervisor; I/D stays 0 while NXE and SMEP are off (4.7)");
        Assert.AreEqual(Boundary - 3, g.Stack(1, 8), "RIP of the faulting instruction");
    }
}
