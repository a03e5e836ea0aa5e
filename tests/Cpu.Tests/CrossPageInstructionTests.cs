using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

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

    /// <summary>
    /// A straddling MOV RAX, imm64 is run, then its last immediate byte (on the second page) is rewritten and the
    /// instruction runs again: the second run sees the new byte (SDM vol. 3, 11.6), although the decoded
    /// instruction is kept between runs.
    /// </summary>
    [TestMethod]
    public void AWriteToTheSecondPageIsSeenByTheNextRun()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.xor(ebx, ebx);
            a.mov(rsi, Boundary - 3);
            a.call(rsi);
            a.add(rbx, rax);
            a.mov(__byte_ptr[Boundary + 6], 0x99);
            a.call(rsi);
            a.add(rbx, rax);
            a.hlt();
        });
        g.Load(Boundary - 3, GuestRunner.Assemble(64, Boundary - 3, a => { a.mov(rax, 0x1122334455667788UL); a.ret(); }));
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(unchecked(0x1122334455667788UL + 0x9922334455667788UL), g.Cpu.Rbx);
    }

    /// <summary>
    /// The straddling instruction's second linear page is remapped (and the stale translation invalidated with
    /// INVLPG) between two runs: the second run fetches the bytes of the new physical page; then the page is
    /// unmapped and the third run raises #PF with CR2 on that page.
    /// </summary>
    [TestMethod]
    public void TheSecondPageIsFetchedThroughItsCurrentTranslation()
    {
        const ulong alternate = 0x40000;
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        // The page tables at 2 MiB are mapped too: the guest rewrites the boundary page's entry.
        t.IdentityMap(0, 0x400000, RW);
        var pte = t.EntryAddress(Boundary, 1);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.xor(ebx, ebx);
            a.mov(rsi, Boundary - 3);
            a.call(rsi);
            a.add(rbx, rax);
            a.mov(rdi, pte);
            a.mov(__qword_ptr[rdi], (int)(alternate | P | RW));
            a.invlpg(__byte_ptr[Boundary]);
            a.call(rsi);
            a.add(rbx, rax);
            a.mov(__qword_ptr[rdi], 0);
            a.invlpg(__byte_ptr[Boundary]);
            a.call(rsi);
            a.hlt();
        });
        var code = GuestRunner.Assemble(64, Boundary - 3, a => { a.mov(rax, 0x1122334455667788UL); a.ret(); });
        g.Load(Boundary - 3, code);
        // The alternate page holds the same continuation but for the top immediate byte.
        var rest = code[3..];
        rest[6] = 0x77;
        g.Load(alternate, rest);
        g.StartPaged(GuestRunner.CodeAddress, t);
        g.InstallIdt(64);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(unchecked(0x1122334455667788UL + 0x7722334455667788UL), g.Cpu.Rbx);
        Assert.AreEqual(Boundary, g.Cpu.Cr2);
        Assert.AreEqual(Boundary - 3, g.Stack(1, 8), "RIP of the straddling instruction");
    }
}
