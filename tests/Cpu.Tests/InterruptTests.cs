using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>External interrupts, NMI, the STI/MOV SS shadows, HLT and single-step (SDM vol. 3, 6.3, 6.7.1, 6.8.3, 17.3.1.4).</summary>
[TestClass]
public sealed class InterruptTests
{
    private const uint Counter = 0x9000, Release = 0x9004;

    [TestMethod]
    public void ExternalInterruptIsDeliveredOnlyWithIfSet_6_8_1()
    {
        using (var g = GuestRunner.Protected(a =>
        {
            a.nop();
            a.mov(al, 7);
            a.@out(0xF4, al);
        }))
        {
            var source = new TestInterruptSource { Vector = 0x30 };
            g.Cpu.InterruptSource = source;
            g.AssertExit(7);
            Assert.AreEqual(0, source.Acknowledged);
        }
        using (var g = GuestRunner.Protected(a => a.jmp(GuestRunner.CodeAddress)))
        {
            var source = new TestInterruptSource();
            g.Cpu.InterruptSource = source;
            g.Cpu.Flags |= Rflags.IF;
            Assert.AreEqual(StopReason.CycleLimit, g.Run(1000));
            source.Vector = 0x30;
            g.Cpu.NotifyInterrupt();
            Assert.AreEqual(0x30, g.RunToVector());
            Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(0));
            Assert.AreEqual(1, source.Acknowledged);
        }
    }

    [TestMethod]
    public void StiDelaysInterruptsByOneInstruction_6_8_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.sti();
            a.nop();
            a.nop();
            a.hlt();
        });
        g.Cpu.InterruptSource = new TestInterruptSource { Vector = 0x30 };
        Assert.AreEqual(0x30, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 2, g.Stack(0), "delivered after the instruction that follows STI");
    }

    [TestMethod]
    public void MovSsInhibitsTheSingleStepTrapOfTheNextInstruction_6_8_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x10);
            a.mov(ss, ax);
            a.nop();
            a.nop();
        });
        g.Cpu.Rip = GuestRunner.CodeAddress + 4;
        g.Cpu.Rax = 0x10;
        g.Cpu.Flags |= Rflags.TF;
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        // MOV SS, AX is 66 8E D0 at +4; the NOP after it is at +7, so the held trap returns to +8.
        Assert.AreEqual(GuestRunner.CodeAddress + 8, g.Stack(0), "the trap comes after the instruction following MOV SS");
    }

    [TestMethod]
    public void SingleStepTrapsAfterEachInstructionAndSetsBs_17_3_1_4()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.pushfd();
            a.or(__dword_ptr[esp], (int)Rflags.TF);
            a.popfd();
            a.inc(eax);
            a.inc(eax);
        });
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        // POPF that sets TF does not trap; the instruction after it does.
        Assert.AreEqual(GuestRunner.CodeAddress + 10, g.Stack(0));
        Assert.AreEqual(1UL, g.Cpu.Rax);
        Assert.AreNotEqual(0UL, g.Cpu.GetDebugRegister(6) & (1UL << 14), "DR6.BS");
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.TF, "TF is cleared on delivery");
    }

    [TestMethod]
    public void HltResumesOnInterruptAndIretReturnsAfterHlt_6_8_HLT()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.sti();
            a.hlt();
            a.mov(al, 9);
            a.@out(0xF4, al);
        });
        g.Code(32, 0x20000, a => a.iretd());
        g.SetIdtGate32(0x30, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, 0x20000, 0));
        var source = new TestInterruptSource();
        g.Cpu.InterruptSource = source;
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(ActivityState.Hlt, g.Cpu.Activity);
        source.Vector = 0x30;
        g.Cpu.NotifyInterrupt();
        g.AssertExit(9);
    }

    [TestMethod]
    public void NmiIsBlockedUntilIret_6_7_1()
    {
        using var g = GuestRunner.Protected(a => a.jmp(GuestRunner.CodeAddress));
        g.Code(32, 0x20000, a =>
        {
            var wait = a.CreateLabel();
            a.inc(__dword_ptr[Counter]);
            a.Label(ref wait);
            a.cmp(__dword_ptr[Release], 0);
            a.je(wait);
            a.iretd();
        });
        g.SetIdtGate32(ExceptionVector.NMI, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, 0x20000, 0));
        g.Cpu.RaiseNmi();
        g.Run(1000);
        Assert.AreEqual(1UL, g.Memory.Read(Counter, 4));
        g.Cpu.RaiseNmi();
        g.Run(1000);
        Assert.AreEqual(1UL, g.Memory.Read(Counter, 4), "a second NMI waits while the handler runs");
        g.Memory.Write(Release, 4, 1);
        g.Run(1000);
        Assert.AreEqual(2UL, g.Memory.Read(Counter, 4), "IRET unblocks NMI and the held one is delivered");
    }
}
