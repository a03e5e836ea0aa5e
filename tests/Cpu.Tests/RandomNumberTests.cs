using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>
/// RDRAND and RDSEED (SDM vol. 2, RDRAND/RDSEED; vol. 1, 7.3.17): CPUID.01H:ECX[30] and
/// CPUID.(EAX=07H,ECX=0):EBX[18] announce them; a returned number sets CF = 1 and clears OF, SF, ZF,
/// AF and PF; the destination takes the operand size (a 16-bit one keeps the register's upper bits,
/// a 32-bit one clears them). The numbers come from a deterministic generator: the same machine gives
/// the same sequence every run.
/// </summary>
[TestClass]
public sealed class RandomNumberTests
{
    [TestMethod]
    public void CpuidAnnouncesBoth()
    {
        using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus());
        cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreNotEqual(0u, ecx & (1u << 30));
        cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
        Assert.AreNotEqual(0u, ebx & (1u << 18));
    }

    private static GuestRunner Draw() => GuestRunner.Long(a =>
    {
        a.mov(rbx, 0x1111_2222_3333_4444);
        a.mov(rcx, 0x5555_6666_7777_8888);
        a.xor(eax, eax);
        a.cmp(eax, 1);
        a.rdrand(rax);
        a.rdseed(bx);
        a.rdrand(ecx);
        a.hlt();
    });

    [TestMethod]
    public void EachSizeWritesItsDestinationAndSetsOnlyCf()
    {
        using var g = Draw();
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0x1111_2222_3333_0000UL, g.Cpu.Rbx & ~0xFFFFUL, "a 16-bit destination keeps bits 63:16");
        Assert.AreEqual(0UL, g.Cpu.Rcx >> 32, "a 32-bit destination is zero-extended");
        Assert.AreNotEqual(g.Cpu.Rax, g.Cpu.Rcx, "successive numbers differ");
        Assert.AreEqual(Rflags.CF, g.Cpu.Flags & Rflags.Status, "CF = 1, OF SF ZF AF PF = 0 (after CMP had set SF, AF, CF)");
    }

    [TestMethod]
    public void TheSequenceRepeatsOnAFreshMachineAndDiffersBetweenProcessors()
    {
        using var first = Draw();
        using var second = Draw();
        first.Run();
        second.Run();
        Assert.AreEqual(first.Cpu.Rax, second.Cpu.Rax);
        Assert.AreEqual(first.Cpu.Rcx, second.Cpu.Rcx);
        using var other = new Processor(new PhysicalMemory(1 << 20), new TestBus(), index: 1);
        using var mine = new Processor(new PhysicalMemory(1 << 20), new TestBus(), index: 0);
        Assert.AreNotEqual(Draw64(mine), Draw64(other), "each processor draws from its own sequence");
    }

    private static ulong Draw64(Processor cpu)
    {
        var code = GuestRunner.Assemble(16, 0x7C00, a => { a.rdrand(eax); a.hlt(); });
        cpu.Memory.WriteBytes(0x7C00, code);
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0, Base = 0, Limit = 0xFFFF, Attributes = 0x9B });
        cpu.Rip = 0x7C00;
        cpu.Run(cpu.Cycles + 10);
        return cpu.Rax;
    }
}
