using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>System instructions and control registers (SDM vol. 2 instruction pages; vol. 3, 2.5 and chapter 13).</summary>
[TestClass]
public sealed class SystemInstructionTests
{
    [TestMethod]
    public void MovCr0WithPgButNotPeRaisesGp_Vol2MovCr()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, 0x80000010);
            a.mov(cr0, eax);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.IsTrue(g.Cpu.InProtectedMode);
        Assert.IsFalse(g.Cpu.PagingEnabled);
    }

    [TestMethod]
    public void MovCr4WithReservedBitRaisesGp_2_5()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, 1 << 15);
            a.mov(cr4, eax);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Cpu.Cr4);
    }

    [TestMethod]
    public void ClearingCr4PaeInLongModeRaisesGp_Vol2MovCr()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rax, cr4);
            a.and(eax, ~0x20);
            a.mov(cr4, rax);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreNotEqual(0UL, g.Cpu.Cr4 & Cr4.PAE);
    }

    [TestMethod]
    public void CpuidVendorAndFeaturesMatchWhatTheProcessorDoes_Vol2Cpuid()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.xor(eax, eax);
            a.cpuid();
            a.mov(__dword_ptr[0x9000], ebx);
            a.mov(__dword_ptr[0x9004], edx);
            a.mov(__dword_ptr[0x9008], ecx);
            a.mov(__dword_ptr[0x900C], eax);
            a.mov(eax, 1);
            a.cpuid();
            a.mov(__dword_ptr[0x9010], edx);
            a.mov(__dword_ptr[0x9014], ecx);
            a.mov(eax, 0x80000000);
            a.cpuid();
            a.mov(__dword_ptr[0x9018], eax);
            a.mov(eax, 0x80000001);
            a.cpuid();
            a.mov(__dword_ptr[0x901C], edx);
            a.mov(al, 0);
            a.@out(0xF4, al);
        });
        g.AssertExit(0);
        var vendor = new byte[12];
        g.Memory.ReadBytes(0x9000, vendor);
        Assert.AreEqual("GenuineIntel", System.Text.Encoding.ASCII.GetString(vendor));
        Assert.IsTrue(g.Memory.Read(0x900C, 4) >= 7);
        var edx1 = g.Memory.Read(0x9010, 4);
        Assert.AreNotEqual(0UL, edx1 & (1 << 6), "PAE is implemented");
        Assert.AreNotEqual(0UL, edx1 & (1 << 3), "PSE is implemented");
        Assert.AreNotEqual(0UL, edx1 & 1, "the x87 FPU is implemented");
        Assert.AreEqual(0xFUL << 23, edx1 & (0xFUL << 23), "MMX, FXSR, SSE and SSE2");
        Assert.IsTrue(g.Memory.Read(0x9018, 4) >= 0x80000001);
        Assert.AreNotEqual(0UL, g.Memory.Read(0x901C, 4) & (1 << 29), "long mode");
    }

    [TestMethod]
    public void RdmsrOfUnknownMsrRaisesGp_Vol2Rdmsr()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ecx, 0x12345);
            a.rdmsr();
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0));
    }

    [TestMethod]
    public void WrmsrEferIgnoresTheReadOnlyLma_2_2_1()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(ecx, 0xC0000080);
            a.mov(eax, (1 << 8) | 1);
            a.xor(edx, edx);
            a.wrmsr();
            a.rdmsr();
            a.@out(0xF4, eax);
        });
        Assert.AreEqual(StopReason.StopRequested, g.Run());
        Assert.AreEqual((1 << 10) | (1 << 8) | 1, g.Bus.ExitValue, "LMA stays 1 while paging is on with LME");
    }

    [TestMethod]
    [DataRow(32)]
    [DataRow(64)]
    public void LgdtSgdtRoundTrip_Vol2Lgdt(int bits)
    {
        using var g = bits == 32 ? GuestRunner.Protected(Body) : GuestRunner.Long(Body);
        g.Memory.Write(0x9000, 2, 0x17);
        g.Memory.Write(0x9002, 8, bits == 64 ? 0xFFFF800000001000UL : 0x1000);
        g.AssertExit(0);
        Assert.AreEqual(0x17UL, g.Memory.Read(0x9100, 2));
        Assert.AreEqual(bits == 64 ? 0xFFFF800000001000UL : 0x1000UL, g.Memory.Read(0x9102, bits / 8));
        return;

        void Body(Assembler a)
        {
            a.lgdt(__dword_ptr[0x9000]);
            a.sgdt(__dword_ptr[0x9100]);
            a.mov(al, 0);
            a.@out(0xF4, al);
        }
    }

    [TestMethod]
    public void LarLslVerrVerwReportThroughZf_Vol2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            void Record(int slot)
            {
                a.setz(__byte_ptr[0x9000 + slot]);
            }
            a.mov(ecx, 0xDEAD);
            a.mov(bx, 0x40);
            a.lar(eax, ebx); Record(0);
            a.mov(__dword_ptr[0x9100], eax);
            a.lsl(eax, ebx); Record(1);
            a.mov(__dword_ptr[0x9104], eax);
            a.mov(bx, 0x48);
            a.verr(bx); Record(2);
            a.verw(bx); Record(3);
            a.mov(bx, 0x50);
            a.verr(bx); Record(4);
            a.xor(ebx, ebx);
            a.lar(ecx, ebx); Record(5);
            a.mov(__dword_ptr[0x9108], ecx);
            a.mov(bx, 0x1F8);
            a.lsl(ecx, ebx); Record(6);
            a.mov(bx, 0x40);
            a.verw(bx); Record(7);
            a.mov(al, 0);
            a.@out(0xF4, al);
        });
        g.SetGdt(8, Descriptors.Segment(0x123000, 0x12345, 0x92, 0x4));
        g.SetGdt(9, Descriptors.Segment(0, 0xFFFFF, 0x98, 0xC));
        g.SetGdt(10, Descriptors.Segment(0, 0xFFFFF, 0x9A, 0xC));
        g.AssertExit(0);
        var zf = new byte[8];
        g.Memory.ReadBytes(0x9000, zf);
        CollectionAssert.AreEqual(new byte[] { 1, 1, 0, 0, 1, 0, 0, 1 }, zf);
        Assert.AreEqual(0x00409200UL, g.Memory.Read(0x9100, 4), "LAR: access rights masked by 00F0FF00h");
        Assert.AreEqual(0x12345UL, g.Memory.Read(0x9104, 4));
        Assert.AreEqual(0xDEADUL, g.Memory.Read(0x9108, 4), "a failed LAR leaves the destination");
        Assert.AreEqual(0x92UL, (g.GdtEntry(8) >> 40) & 0xFF, "LAR does not set the accessed bit");
    }

    [TestMethod]
    public void LarAtCpl3DoesNotSeeADpl0Segment_Vol2Lar()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(bx, 0x10);
            a.lar(eax, ebx);
            a.setz(cl);
            a.mov(bx, GuestRunner.UserData);
            a.lar(eax, ebx);
            a.setz(ch);
            a.hlt();
        });
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x0100UL, g.Cpu.Rcx & 0xFFFF);
    }

    [TestMethod]
    public void ArplRaisesRplAndSetsZf_Vol2Arpl()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x10);
            a.mov(bx, 0x3);
            a.arpl(ax, bx);
            a.setz(cl);
            a.arpl(ax, bx);
            a.setz(ch);
            a.mov(__word_ptr[0x9000], cx);
            a.@out(0xF4, ax);
        });
        g.AssertExit(0x13);
        Assert.AreEqual(0x0001UL, g.Memory.Read(0x9000, 2));
    }

    [TestMethod]
    [DataRow(Cr0.EM, ExceptionVector.NM)]
    [DataRow(Cr0.TS, ExceptionVector.NM)]
    public void X87InstructionUnderEmOrTsFaults_Table2_2(ulong cr0Bits, int vector)
    {
        using var g = GuestRunner.Protected(a => a.fld1());
        g.Cpu.LoadControlState(g.Cpu.Cr0 | cr0Bits, 0, 0, 0);
        Assert.AreEqual(vector, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(0), "a fault: EIP of the instruction, no error code");
    }

    [TestMethod]
    [DataRow(0UL, ExceptionVector.UD)]
    [DataRow(Cr0.EM, ExceptionVector.UD)]
    public void SseInstructionFaults_Vol2ExceptionClasses(ulong cr0Bits, int vector)
    {
        using var g = GuestRunner.Protected(a => a.addps(xmm0, xmm1));
        g.Cpu.LoadControlState(g.Cpu.Cr0 | cr0Bits, 0, 0, 0);
        Assert.AreEqual(vector, g.RunToVector());
    }

    [TestMethod]
    public void FloatingPointAndVectorInstructionsNeverCrash_Table2_2()
    {
        var programs = new Action<Assembler>[]
        {
            a => a.fxsave(__[0x9000]), a => a.emms(),
            a => a.movaps(xmm0, __xmmword_ptr[0x9000]), a => a.pxor(mm0, mm1), a => a.vaddps(ymm0, ymm1, ymm2),
            a => a.ldmxcsr(__dword_ptr[0x9000]), a => a.cvtsi2sd(xmm0, eax),
        };
        foreach (var program in programs)
        {
            using var g = GuestRunner.Protected(a =>
            {
                program(a);
                a.hlt();
            });
            var vector = g.RunToVector();
            Assert.IsTrue(vector is ExceptionVector.UD or ExceptionVector.NM || vector == -1, $"vector {vector}");
        }
    }
}
