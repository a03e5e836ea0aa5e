using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>The debug registers and debug exceptions (SDM vol. 3, 17.2–17.3), RF (17.3.1.1) and the MOV SS hold (6.8.3).</summary>
[TestClass]
public sealed class DebugRegisterTests
{
    private const ulong Data = 0x20000;
    private const ulong Handler = 0x31000;

    /// <summary>DR7 enabling breakpoint <paramref name="n"/> locally with R/W <paramref name="type"/> and LEN <paramref name="len"/> (17.2.4).</summary>
    private static ulong Dr7(int n, int type, int len, bool enabled = true) =>
        (enabled ? 1UL << (2 * n) : 0) | ((ulong)type << (16 + 4 * n)) | ((ulong)len << (18 + 4 * n));

    private static void Breakpoint(GuestRunner g, int n, ulong address, ulong dr7)
    {
        g.Cpu.SetDebugRegister(n, address);
        g.Cpu.SetDebugRegister(7, g.Cpu.GetDebugRegister(7) | dr7);
    }

    /// <summary>A #DB handler that counts its calls in ECX, sets RF in the saved EFLAGS and returns (17.3.1.1).</summary>
    private static void InstallResumingHandler(GuestRunner g)
    {
        g.Code(32, Handler, a =>
        {
            a.inc(ecx);
            a.or(__dword_ptr[esp + 8], (int)Rflags.RF);
            a.iretd();
        });
        g.SetIdtGate32(ExceptionVector.DB, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, (uint)Handler, 0));
    }

    [TestMethod]
    public void DataWriteBreakpointIsATrapAfterTheWrite_17_3_1_2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, 0x11223344);
            a.mov(__dword_ptr[Data + 4], eax);
            a.inc(ebx);
        });
        Breakpoint(g, 0, Data + 4, Dr7(0, DebugControl.Write, 3));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(0x11223344UL, g.Memory.Read(Data + 4, 4), "a trap: the write is done");
        var next = GuestRunner.CodeAddress + (ulong)GuestRunner.Assemble(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(eax, 0x11223344);
            a.mov(__dword_ptr[Data + 4], eax);
        }).Length;
        Assert.AreEqual(next, g.Stack(0), "reported after the writing instruction");
        Assert.AreEqual(0UL, g.Cpu.Rbx, "before the next one");
        Assert.AreEqual(DebugStatus.B0, g.Cpu.GetDebugRegister(6) & 0xF);
        Assert.AreEqual(0UL, g.Stack(2) & Rflags.RF, "a trap saves RF as it was (0)");
    }

    [TestMethod]
    public void WriteBreakpointIgnoresReadsAndAccessesBesideItsRange_17_2_5()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, __dword_ptr[Data + 4]);
            a.mov(__word_ptr[Data + 8], ax);
            a.mov(__byte_ptr[Data + 3], al);
            a.mov(__word_ptr[Data + 6], ax);
            a.hlt();
        });
        // LEN = 01b: two bytes at DR0 aligned down, 20004h-20005h.
        Breakpoint(g, 0, Data + 5, Dr7(0, DebugControl.Write, 1));
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector, "neither the read nor the writes beside the range trap");
        Assert.AreEqual(0UL, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void ReadWriteBreakpointOfEightBytesCatchesAReadOfItsLastByte_17_2_5()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(__qword_ptr[Data + 8], rax);
            a.mov(al, __byte_ptr[Data + 0x17]);
            a.nop();
        });
        // The write fills the TLB entry of the page first; arming the breakpoint must not leave it in use.
        Assert.AreEqual(StopReason.CycleLimit, g.Cpu.Step());
        Breakpoint(g, 1, Data + 0x13, Dr7(1, DebugControl.ReadWrite, 2));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        var next = GuestRunner.CodeAddress + (ulong)GuestRunner.Assemble(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(__qword_ptr[Data + 8], rax);
            a.mov(al, __byte_ptr[Data + 0x17]);
        }).Length;
        Assert.AreEqual(next, g.Memory.Read(g.Cpu.Rsp, 8), "after the read (LEN 10b: 20010h-20017h)");
        Assert.AreEqual(DebugStatus.B1, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void DataBreakpointInARepeatedStringStopsAfterItsIterationWithRfSaved_17_3_1_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(esi, (uint)Data);
            a.mov(edi, (uint)Data + 0x100);
            a.mov(ecx, 8);
            a.rep.movsd();
            a.nop();
        });
        Breakpoint(g, 0, Data + 0x108, Dr7(0, DebugControl.Write, 3));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 15, g.Stack(0), "the trap of an iteration but the last leaves EIP on the instruction");
        Assert.AreEqual(5UL, g.Cpu.Rcx, "three iterations done");
        Assert.AreNotEqual(0UL, g.Stack(2) & Rflags.RF, "RF = 1 for a trap of any iteration but the last");
        Assert.AreEqual(DebugStatus.B0, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void DisabledBreakpointsThatMatchAreReportedWithAnEnabledOne_17_2_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(__dword_ptr[Data], eax);
            a.nop();
        });
        // B0-B3 may be set for disabled breakpoints that match (17.2.3); Bochs sets them when an enabled one also matches.
        Breakpoint(g, 0, Data, Dr7(0, DebugControl.Write, 3));
        Breakpoint(g, 2, Data + 2, Dr7(2, DebugControl.ReadWrite, 0, enabled: false));
        Breakpoint(g, 3, Data + 8, Dr7(3, DebugControl.ReadWrite, 0, enabled: false));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(DebugStatus.B0 | DebugStatus.B2, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void DisabledMatchesOfEarlierIterationsRideWithTheTrapOfALaterOne_17_2_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(edi, (uint)Data);
            a.mov(ecx, 2);
            a.rep.stosd();
            a.nop();
        });
        // The first iteration matches only disabled DR3, the second enabled DR2: Bochs reports both (found against it).
        Breakpoint(g, 3, Data, Dr7(3, DebugControl.Write, 3, enabled: false));
        Breakpoint(g, 2, Data + 4, Dr7(2, DebugControl.Write, 3));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(DebugStatus.B2 | DebugStatus.B3, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void OnlyDisabledMatchesRaiseNothing_17_2_4()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(__dword_ptr[Data], eax);
            a.hlt();
        });
        Breakpoint(g, 0, Data + 0x100, Dr7(0, DebugControl.Write, 3));
        Breakpoint(g, 1, Data, Dr7(1, DebugControl.Write, 3, enabled: false));
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector);
        Assert.AreEqual(0UL, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void InstructionBreakpointIsAFaultBeforeTheInstruction_17_3_1_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, 1);
            a.mov(ebx, 2);
            a.hlt();
        });
        Breakpoint(g, 0, GuestRunner.CodeAddress + 5, Dr7(0, DebugControl.Execute, 0));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 5, g.Stack(0), "the saved EIP is the breakpoint's instruction");
        Assert.AreEqual(1UL, g.Cpu.Rax);
        Assert.AreEqual(0UL, g.Cpu.Rbx, "not executed");
        Assert.AreEqual(DebugStatus.B0, g.Cpu.GetDebugRegister(6) & 0xF);
        Assert.AreEqual(0UL, g.Stack(2) & Rflags.RF, "the instruction-breakpoint #DB does not set RF in the saved EFLAGS");
    }

    [TestMethod]
    public void RfSetByIretSuppressesTheBreakpointForOneInstruction_17_3_1_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            var loop = a.CreateLabel();
            a.mov(edx, 2);
            a.Label(ref loop);
            a.add(ebx, 1);
            a.dec(edx);
            a.jnz(loop);
            a.hlt();
        });
        InstallResumingHandler(g);
        Breakpoint(g, 0, GuestRunner.CodeAddress + 5, Dr7(0, DebugControl.Execute, 0));
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector);
        Assert.AreEqual(2UL, g.Cpu.Rbx, "the breakpoint's instruction ran both times");
        Assert.AreEqual(2UL, g.Cpu.Rcx, "each pass faulted once: RF lasted one instruction");
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.RF, "RF is cleared once an instruction completes");
    }

    [TestMethod]
    public void FaultsSaveRfSetAndTrapsSaveItClear_17_3_1_1()
    {
        using (var g = GuestRunner.Protected(a => a.ud2()))
        {
            Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
            Assert.AreNotEqual(0UL, g.Stack(2) & Rflags.RF, "a fault-class exception saves RF = 1");
            Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.RF, "delivery clears RF");
        }
        using (var g = GuestRunner.Protected(a => a.int3()))
        {
            Assert.AreEqual(ExceptionVector.BP, g.RunToVector());
            Assert.AreEqual(0UL, g.Stack(2) & Rflags.RF, "INT3 is a trap: RF as it was");
        }
    }

    [TestMethod]
    public void GeneralDetectFaultsBeforeMovDrSetsBdAndClearsGd_17_2_4()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.nop();
            a.mov(eax, dr0);
        });
        g.Cpu.SetDebugRegister(0, 0x1234);
        g.Cpu.SetDebugRegister(7, DebugControl.ReadAsOne | DebugControl.GD);
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 1, g.Stack(0), "a fault: the MOV did not execute");
        Assert.AreEqual(0UL, g.Cpu.Rax);
        Assert.AreNotEqual(0UL, g.Cpu.GetDebugRegister(6) & DebugStatus.BD);
        Assert.AreEqual(0UL, g.Cpu.GetDebugRegister(7) & DebugControl.GD, "cleared on entry to the handler");
        Assert.AreNotEqual(0UL, g.Stack(2) & Rflags.RF, "the general-detect #DB is a fault (17.3.1.1)");
    }

    [TestMethod]
    public void Dr6AndDr7ReservedBitsReadAsTheSdmSays_17_2_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.xor(eax, eax);
            a.mov(dr6, eax);
            a.mov(dr7, eax);
            a.mov(ebx, dr6);
            a.mov(ecx, dr7);
            a.mov(eax, -1);
            a.mov(dr6, eax);
            a.mov(esi, dr6);
            a.mov(dr4, eax);
            a.mov(edi, dr4);
            a.hlt();
        });
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0xFFFF0FF0UL, g.Cpu.Rbx, "DR6 bits 4-11 and 16-31 read 1, bit 12 reads 0");
        Assert.AreEqual(0x400UL, g.Cpu.Rcx, "DR7 bit 10 reads 1");
        Assert.AreEqual(0xFFFFEFFFUL, g.Cpu.Rsi);
        Assert.AreEqual(0xFFFFEFFFUL, g.Cpu.Rdi, "with CR4.DE clear DR4 aliases DR6");
    }

    [TestMethod]
    public void MovDrFaultsInLongModeAndWithDebugExtensions_17_2_2()
    {
        using (var g = GuestRunner.Long(a =>
        {
            a.mov(rax, 1UL << 32);
            a.mov(dr7, rax);
        }))
        {
            Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "1s in bits 63:32 of DR7");
        }
        using (var g = GuestRunner.Protected(a => a.mov(eax, dr5)))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0, 0, Cr4.DE, 0);
            Assert.AreEqual(ExceptionVector.UD, g.RunToVector(), "DR5 with CR4.DE set");
        }
    }

    [TestMethod]
    public void IoBreakpointNeedsCr4DeAndTrapsAfterOut_17_2_4()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(dx, 0x82);
            a.@out(dx, ax);
            a.nop();
        });
        // LEN 11b covers ports 80h-83h; the word at 82h-83h falls inside.
        Breakpoint(g, 0, 0x80, Dr7(0, DebugControl.Io, 3));
        g.Cpu.LoadControlState(g.Cpu.Cr0, 0, Cr4.DE, 0);
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 4 + 2, g.Stack(0));
        Assert.AreEqual(DebugStatus.B0, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void IoBreakpointWithoutCr4DeDoesNothing_17_2_4()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(dx, 0x80);
            a.@out(dx, al);
            a.hlt();
        });
        Breakpoint(g, 0, 0x80, Dr7(0, DebugControl.Io, 0));
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector);
    }

    [TestMethod]
    public void PopSsHoldsADataBreakpointUntilAfterTheNextInstruction_6_8_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.pop(ss);
            a.mov(esp, 0x70000);
            a.inc(ebx);
        });
        // The next instruction moves the stack away, so that the #DB frame does not meet the breakpoint again.
        g.Cpu.Rsp = 0x7F000;
        g.Memory.Write(0x7F000, 4, GuestRunner.KernelData);
        Breakpoint(g, 0, 0x7F000, Dr7(0, DebugControl.ReadWrite, 3));
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 6, g.Stack(0), "reported after the instruction after POP SS");
        Assert.AreEqual(0UL, g.Cpu.Rbx);
        Assert.AreEqual(DebugStatus.B0, g.Cpu.GetDebugRegister(6) & 0xF);
    }

    [TestMethod]
    public void MovSsBlocksAnInstructionBreakpointOnTheNextInstruction_6_8_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, (int)GuestRunner.KernelData);
            a.mov(ss, eax);
            a.inc(ebx);
            a.hlt();
        });
        Breakpoint(g, 0, GuestRunner.CodeAddress + 7, Dr7(0, DebugControl.Execute, 0));
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector, "the breakpoint after MOV SS is not taken");
        Assert.AreEqual(1UL, g.Cpu.Rbx);
    }

    [TestMethod]
    public void TaskSwitchToATssWithTheTFlagTrapsWithBt_17_3_1_5()
    {
        const ulong tssB = 0x5000;
        const uint taskB = 0x22000;
        using var g = GuestRunner.Protected(a => a.jmp(0x40, 0));
        g.Code(32, taskB, a => a.hlt());
        g.SetGdt(8, Descriptors.Segment((uint)tssB, 0x67, 0x89, 0));
        for (ulong i = 0; i < 0x68; i++) g.Memory.Write(tssB + i, 1, 0);
        g.Memory.Write(tssB + 0x20, 4, taskB);
        g.Memory.Write(tssB + 0x24, 4, 2);
        g.Memory.Write(tssB + 0x38, 4, 0x60000);
        g.Memory.Write(tssB + 0x48, 2, GuestRunner.KernelData);
        g.Memory.Write(tssB + 0x4C, 2, GuestRunner.KernelCode);
        g.Memory.Write(tssB + 0x50, 2, GuestRunner.KernelData);
        g.Memory.Write(tssB + 0x54, 2, GuestRunner.KernelData);
        g.Memory.Write(tssB + 0x64, 2, 1);
        g.Memory.Write(tssB + 0x66, 2, 0x68);
        g.SetGdt(5, Descriptors.Segment((uint)GuestRunner.TssAddress, 0x67, 0x8B, 0));
        // L0, G0 and G1, both instruction breakpoints at address 0, where no code runs.
        g.Cpu.SetDebugRegister(7, DebugControl.ReadAsOne | 0xB);
        Assert.AreEqual(ExceptionVector.DB, g.RunToVector());
        Assert.AreEqual((ulong)0x40, g.Cpu.Tr.Selector);
        Assert.AreEqual((ulong)taskB, g.Stack(0), "before the new task's first instruction");
        Assert.AreNotEqual(0UL, g.Cpu.GetDebugRegister(6) & DebugStatus.BT);
        Assert.AreEqual(0xAUL, g.Cpu.GetDebugRegister(7) & DebugControl.Enables, "a task switch clears L0-L3, not G0-G3");
    }
}
