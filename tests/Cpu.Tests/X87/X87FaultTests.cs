using Sim.Cpu.Bus;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.X87;

/// <summary>#NM, #MF, FERR# and the environment layouts, from the SDM (vol. 3, 2.5 and table 2-2; vol. 1, 8.1 and D.2).</summary>
[TestClass]
public sealed class X87FaultTests
{
    [TestMethod]
    [DataRow(Cr0.EM, ExceptionVector.NM)]
    [DataRow(Cr0.TS, ExceptionVector.NM)]
    [DataRow(Cr0.MP | Cr0.TS, ExceptionVector.NM)]
    public void EmOrTsMakesX87InstructionsRaiseNm(ulong cr0Bits, int vector)
    {
        foreach (var program in new Action<Iced.Intel.Assembler>[] { a => a.fninit(), a => a.fnstsw(ax), a => a.fsin(), a => a.fldcw(__word_ptr[0x9000]) })
        {
            using var g = GuestRunner.Protected(program);
            g.Cpu.LoadControlState(g.Cpu.Cr0 | cr0Bits, 0, 0, 0);
            Assert.AreEqual(vector, g.RunToVector());
            Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(0));
        }
    }

    [TestMethod]
    [DataRow(0UL, -1)]
    [DataRow(Cr0.EM, -1)]
    [DataRow(Cr0.TS, -1)]
    [DataRow(Cr0.MP | Cr0.TS, ExceptionVector.NM)]
    public void WaitRaisesNmOnlyWithMpAndTs(ulong cr0Bits, int vector)
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.wait();
            a.hlt();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | cr0Bits, 0, 0, 0);
        Assert.AreEqual(vector, g.RunToVector());
    }

    [TestMethod]
    public void UnmaskedExceptionRaisesMfAtTheNextWaitingInstruction()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            a.mov(__word_ptr[0x9000], 0x037B);
            a.fldcw(__word_ptr[0x9000]);
            a.fldz();
            a.fld1();
            a.fdiv(st0, st1);
            a.fnstsw(__word_ptr[0x9010]);
            a.fnstenv(__[0x9020]);
            a.fldcw(__word_ptr[0x9000]);
            a.fld1();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.NE, 0, 0, 0);
        Assert.AreEqual(ExceptionVector.MF, g.RunToVector());
        // The FDIV stopped (ST(0) keeps 1.0), set ZE, ES and B, and the FNSTENV after it masked everything; the
        // reloaded FLDCW unmasks ZE again, so the FLD after it faults with ES pending.
        Assert.AreEqual(0x8084UL, g.Memory.Read(0x9010, 2) & ~0x3800UL);
        var faulting = g.Stack(0);
        Assert.IsTrue(faulting > GuestRunner.CodeAddress, "the fault is taken at the FLD, not at the FDIV");
        Assert.AreEqual(0xD9, (int)g.Memory.Read(faulting, 1), "FLD1");
        Assert.AreEqual(0x037BUL, g.Memory.Read(0x9020, 2), "FNSTENV stores FCW as it was before masking");
    }

    [TestMethod]
    public void WaitingControlFormsFaultAndNonWaitingOnesDoNot()
    {
        foreach (var (waiting, expected) in new[] { (true, ExceptionVector.MF), (false, -1) })
        {
            using var g = GuestRunner.Protected(a =>
            {
                a.fninit();
                a.mov(__word_ptr[0x9000], 0x037B);
                a.fldcw(__word_ptr[0x9000]);
                a.fldz();
                a.fld1();
                a.fdiv(st0, st1);
                a.fnstsw(ax);
                if (waiting) a.fclex();
                else a.fnclex();
                a.hlt();
            });
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.NE, 0, 0, 0);
            Assert.AreEqual(expected, g.RunToVector(), waiting ? "FCLEX waits" : "FNCLEX does not");
            Assert.AreEqual(waiting ? 0x80UL : 0, g.Cpu.FpuStatusWord & 0x80UL);
        }
    }

    [TestMethod]
    public void FisttpTruncatesWithSse3Announced()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            a.mov(__dword_ptr[0x9000], unchecked((int)0xC0300000));
            a.mov(__dword_ptr[0x9004], 0);
            a.fld(__dword_ptr[0x9000]);
            a.fisttp(__dword_ptr[0x9004]);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(unchecked((uint)-2), (uint)g.Memory.Read(0x9004, 4), "−2.75 truncates to −2");
    }

    private sealed class Ferr : IFpuErrorSignal
    {
        public int Count;
        public void AssertFerr() => Count++;
    }

    [TestMethod]
    public void WithoutNeAPendingExceptionAssertsFerrInstead()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            a.mov(__word_ptr[0x9000], 0x037B);
            a.fldcw(__word_ptr[0x9000]);
            a.fldz();
            a.fld1();
            a.fdiv(st0, st1);
            a.fld1();
            a.fld1();
            a.fnclex();
            a.fld1();
            a.hlt();
        });
        var ferr = new Ferr();
        g.Cpu.FpuErrorSignal = ferr;
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(1, ferr.Count, "asserted once at the first waiting instruction, and not again until FNCLEX");
    }

    [TestMethod]
    public void StackOverflowAndUnderflowSetSfAndC1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.fninit();
            for (var i = 0; i < 9; i++) a.fld1();
            a.fnstsw(__word_ptr[0x9000]);
            a.fninit();
            a.fadd(st0, st1);
            a.fnstsw(__word_ptr[0x9002]);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(0x0241UL, g.Memory.Read(0x9000, 2) & 0x02FF, "IE, SF and C1 = 1: overflow");
        Assert.AreEqual(0x0041UL, g.Memory.Read(0x9002, 2) & 0x02FF, "IE, SF and C1 = 0: underflow");
    }

    [TestMethod]
    public void RealModeEnvironmentHoldsLinearPointersAndOpcode()
    {
        using var g = GuestRunner.Real(a =>
        {
            a.fninit();
            a.fld(__qword_ptr[0x100]);
            a.fnstenv(__[0x200]);
            a.db(0x66);
            a.fnstenv(__[0x300]);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector());
        // 16-bit real-mode image: FIP 15:0, then FIP 19:16 in bits 15:12 with FOP; FDP likewise.
        var fip = 0x7C00UL + 2;
        Assert.AreEqual(fip & 0xFFFF, g.Memory.Read(0x206, 2));
        Assert.AreEqual(((fip >> 16) << 12) | 0x506UL, g.Memory.Read(0x208, 2), "FOP of FLD m64 (DD /0, ModRM 06h)");
        Assert.AreEqual(0x100UL, g.Memory.Read(0x20A, 2));
        // 32-bit real-mode image: the same fields in doubleword slots.
        Assert.AreEqual(fip & 0xFFFF, g.Memory.Read(0x30C, 2));
        Assert.AreEqual(0x506UL, g.Memory.Read(0x310, 4) & 0x7FF);
        Assert.AreEqual(0x100UL, g.Memory.Read(0x314, 2));
        Assert.AreEqual(0x3FFFUL, g.Memory.Read(0x308, 2), "tag word: R7 (ST(0)) valid, the rest empty");
    }
}
