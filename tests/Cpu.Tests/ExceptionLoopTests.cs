using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using Event = Sim.Cpu.Tests.ExceptionLoopEvent;

namespace Sim.Cpu.Tests;

/// <summary>
/// Loops that take an exception or interrupt every turn: what the handlers see and leave (SDM vol. 3,
/// 6.4 to 6.14; 20.1.4 for real mode), and that delivery and IRET allocate nothing once warmed up
/// (DESIGN.md: no allocation on any per-instruction path).
/// </summary>
[TestClass]
public sealed class ExceptionLoopTests
{
    private const int Turns = 1000;

    [TestMethod]
    [DataRow(16, Event.UndefinedOpcode, false)]
    [DataRow(32, Event.UndefinedOpcode, false)]
    [DataRow(64, Event.UndefinedOpcode, false)]
    [DataRow(16, Event.UndefinedOpcode, true)]
    [DataRow(32, Event.UndefinedOpcode, true)]
    [DataRow(64, Event.UndefinedOpcode, true)]
    [DataRow(16, Event.SoftwareInterrupt, false)]
    [DataRow(32, Event.SoftwareInterrupt, false)]
    [DataRow(64, Event.SoftwareInterrupt, false)]
    [DataRow(32, Event.PageFault, false)]
    [DataRow(64, Event.PageFault, true)]
    [DataRow(16, Event.GeneralProtection, false)]
    [DataRow(32, Event.GeneralProtection, true)]
    [DataRow(64, Event.GeneralProtection, false)]
    [DataRow(16, Event.ExternalInterrupt, false)]
    [DataRow(32, Event.ExternalInterrupt, false)]
    [DataRow(64, Event.ExternalInterrupt, true)]
    public void EveryTurnEntersTheHandlerOnceAndIretResumesTheLoop_6_12(int bitness, Event kind, bool stackOnCodePage)
    {
        using var g = new ExceptionLoopGuest(bitness, kind, stackOnCodePage);
        Assert.AreEqual(StopReason.Halted, g.Run(Turns), $"RIP={g.Cpu.Rip:x} pending={g.Cpu.PendingException}");
        var cpu = g.Cpu;
        Assert.AreEqual((ulong)Turns, cpu.Rbx & 0xFFFFFFFF, "handler entries");
        Assert.AreEqual(g.LoopEnd, cpu.GetSegment(SegmentIndex.CS).Base + cpu.Rip, "halted after the loop");
        Assert.AreEqual(g.InitialStack, cpu.GetSegment(SegmentIndex.SS).Base + cpu.Rsp, "IRET pops the whole frame");
        Assert.AreNotEqual(0UL, cpu.Flags & Rflags.IF, "IRET restores the IF that the interrupt gate cleared");
        Assert.AreEqual(0, cpu.Cpl);
        Assert.AreEqual(bitness, cpu.CodeBitness);
        if (kind == Event.ExternalInterrupt)
        {
            Assert.AreEqual(Turns, g.Source.Acknowledged);
        }
        else
        {
            Assert.AreEqual(0UL, cpu.Rcx & 0xFFFFFFFF, "a fault saves the address of the faulting instruction, so the loop's DEC runs every turn");
        }
        if (kind == Event.PageFault)
        {
            // A supervisor-mode read of a not-present page: P, W/R, U/S all clear (SDM vol. 3, 4.7).
            Assert.AreEqual(0UL, cpu.Rdx, "error code");
            Assert.AreEqual(ExceptionLoopGuest.NotPresent, cpu.Cr2);
            Assert.AreEqual(ExceptionLoopGuest.NotPresent, cpu.Rbp, "CR2 in the handler");
        }
        else if (g.HasErrorCode)
        {
            Assert.AreEqual(0UL, cpu.Rdx, "#GP(0) for a limit violation or a non-canonical address");
        }
        else
        {
            Assert.AreEqual(ulong.MaxValue, cpu.Rdx, "no error code was pushed");
        }
    }

    [TestMethod]
    [DataRow(16)]
    [DataRow(32)]
    [DataRow(64)]
    public void AHandlerThatReturnsToTheUd2TakesTheFaultAgain_6_5(int bitness)
    {
        // #UD is a fault: the saved CS:EIP is the UD2's, so IRET to it re-executes it (SDM vol. 3, 6.5).
        const int times = 5;
        using var g = new ExceptionLoopGuest(bitness, Event.UndefinedOpcode);
        g.Runner.Code(bitness, g.Loop, a =>
        {
            a.ud2();
            a.hlt();
        });
        g.Runner.Code(bitness, g.Handler, a =>
        {
            var resume = a.CreateLabel();
            a.inc(ebx);
            a.cmp(ebx, times);
            a.jb(resume);
            if (bitness == 16)
            {
                a.mov(bp, sp);
                a.add(__word_ptr[bp], 2);
            }
            else if (bitness == 32) a.add(__dword_ptr[esp], 2);
            else a.add(__qword_ptr[rsp], 2);
            a.Label(ref resume);
            if (bitness == 16) a.iret();
            else if (bitness == 32) a.iretd();
            else a.iretq();
        });
        Assert.AreEqual(StopReason.Halted, g.Run(0));
        Assert.AreEqual((ulong)times, g.Cpu.Rbx);
        Assert.AreEqual(g.Loop + 3, g.Cpu.Rip);
        Assert.AreEqual(g.InitialStack, g.Cpu.Rsp);
    }

    [TestMethod]
    [DataRow(16, Event.UndefinedOpcode, false)]
    [DataRow(32, Event.UndefinedOpcode, false)]
    [DataRow(64, Event.UndefinedOpcode, false)]
    [DataRow(16, Event.UndefinedOpcode, true)]
    [DataRow(32, Event.UndefinedOpcode, true)]
    [DataRow(64, Event.UndefinedOpcode, true)]
    [DataRow(16, Event.SoftwareInterrupt, false)]
    [DataRow(32, Event.SoftwareInterrupt, false)]
    [DataRow(64, Event.SoftwareInterrupt, false)]
    [DataRow(32, Event.PageFault, false)]
    [DataRow(64, Event.PageFault, false)]
    [DataRow(16, Event.GeneralProtection, false)]
    [DataRow(32, Event.GeneralProtection, false)]
    [DataRow(64, Event.GeneralProtection, false)]
    [DataRow(16, Event.ExternalInterrupt, false)]
    [DataRow(32, Event.ExternalInterrupt, false)]
    [DataRow(64, Event.ExternalInterrupt, false)]
    public void TheEventLoopAllocatesNothingOnceWarmedUp_DesignNoAllocationPerInstruction(int bitness, Event kind, bool stackOnCodePage)
    {
        using var g = new ExceptionLoopGuest(bitness, kind, stackOnCodePage);
        Assert.AreEqual(StopReason.Halted, g.Run(Turns));
        // An allocation per event shows in every round; the runtime's own occasional one (seen once in a
        // while under a loaded full-suite run, a few KiB) does not repeat, so the best of three rounds counts.
        var allocated = long.MaxValue;
        for (var round = 0; round < 3 && allocated != 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var stop = g.Run(Turns);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.AreEqual(StopReason.Halted, stop);
            Assert.AreEqual((ulong)Turns, g.Cpu.Rbx & 0xFFFFFFFF);
        }
        Assert.AreEqual(0L, allocated, $"{allocated} bytes allocated by {Turns} events in each of three rounds");
    }
}
