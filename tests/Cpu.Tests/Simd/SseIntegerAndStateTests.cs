using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>SSE2 and MMX integer results, MMX state aliasing, FXSAVE/FXRSTOR (SDM vol. 1, 9.5, 10.5.1, 11.4.3).</summary>
[TestClass]
public sealed class SseIntegerAndStateTests
{
    [TestMethod]
    public void SaturatingAndMultiplyAddResults()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.paddsb(xmm0, xmm1);
            a.pmaddwd(xmm2, xmm3);
            a.psadbw(xmm4, xmm5);
            a.packuswb(xmm6, xmm7);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x7F80_0102, 0);
        SetXmm(c, 1, 0x01FF_FF01, 0);
        SetXmm(c, 2, 0x8000_8000, 0x0001_0002);
        SetXmm(c, 3, 0x8000_8000, 0x0003_0004);
        SetXmm(c, 4, 0x00FF, 0x10);
        SetXmm(c, 5, 0xFF00, 0x01);
        SetXmm(c, 6, 0x0100_00FF_FFFF_0080, 0);
        SetXmm(c, 7, 0, 0);
        RunToEnd(g);
        Assert.AreEqual(0x7F80_0003UL, Qword(c, 0, 0) & 0xFFFF_FFFF, "127+1 saturates, −128−1 saturates");
        Assert.AreEqual(0x8000_0000u, Dword(c, 2, 0), "PMADDWD: 2 × 8000h² wraps");
        Assert.AreEqual(1u * 3 + 2 * 4, Dword(c, 2, 2));
        Assert.AreEqual(0x1FEUL, Qword(c, 4, 0));
        Assert.AreEqual(0xFUL, Qword(c, 4, 1));
        Assert.AreEqual(0xFFFF_0080UL, Qword(c, 6, 0), "80h, −1 → 0, FFh, 100h → FFh");
    }

    [TestMethod]
    public void ShufflesAndByteShifts()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pshufd(xmm0, xmm1, 0x1B);
            a.movdqa(xmm2, xmm1);
            a.psrldq(xmm2, 3);
            a.pmovmskb(eax, xmm1);
            a.pextrw(ebx, xmm1, 7);
        });
        var c = g.Cpu;
        SetXmm(c, 1, 0x4444_4444_3333_3333, 0x8222_2222_1111_1111);
        RunToEnd(g);
        Assert.AreEqual(0x1111_1111_8222_2222UL, Qword(c, 0, 0));
        Assert.AreEqual(0x1111_1144_4444_4433UL, Qword(c, 2, 0));
        Assert.AreEqual(0x0000_0082_2222_2211UL, Qword(c, 2, 1));
        Assert.AreEqual(0x8000UL, c.Rax);
        Assert.AreEqual(0x8222UL, c.Rbx);
    }

    [TestMethod]
    public void MmxAliasesTheX87SignificandsAndSetsTopAndTags()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(rax, 0x0102_0304_0506_0708UL);
            a.movq(mm3, rax);
            a.punpckhbw(mm3, mm3);
            a.packsswb(mm3, mm3);
        });
        var c = g.Cpu;
        c.FpuStatusWord = 5 << 11;
        c.FpuAbridgedTagWord = 0;
        RunToEnd(g);
        var r3 = c.GetFpuRegister(3);
        Assert.AreEqual(0xFFFF, r3.SignExponent);
        Assert.AreEqual(0x7F7F_7F7F_7F7F_7F7FUL, r3.Significand, "PUNPCKHBW doubles bytes 4–7 into words above 7Fh, which PACKSSWB saturates");
        Assert.AreEqual(0, (c.FpuStatusWord >> 11) & 7, "TOP = 0");
        Assert.AreEqual(0xFF, c.FpuAbridgedTagWord);
    }

    [TestMethod]
    public void EmmsEmptiesTheTagsAndClearsTop()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.paddd(mm0, mm1);
            a.emms();
        });
        g.Cpu.FpuStatusWord = 4 << 11;
        RunToEnd(g);
        Assert.AreEqual(0, g.Cpu.FpuAbridgedTagWord);
        Assert.AreEqual(0, (g.Cpu.FpuStatusWord >> 11) & 7, "TOP = 000B (vol. 3, table 12-2)");
    }

    [TestMethod]
    public void FxsaveAndFxrstorRoundTripBothFormats()
    {
        foreach (var rexW in new[] { false, true })
        {
            using var g = SimdGuest.Long(a =>
            {
                if (rexW) a.fxsave64(__[rsi]); else a.fxsave(__[rsi]);
                a.pxor(xmm9, xmm9);
                a.stmxcsr(__dword_ptr[rsi + 1024]);
                a.mov(__dword_ptr[rsi + 24], 0x7F80 | 0x40);
                if (rexW) a.fxrstor64(__[rsi]); else a.fxrstor(__[rsi]);
            });
            var c = g.Cpu;
            c.FpuControlWord = 0x027F;
            c.FpuStatusWord = 3 << 11;
            c.FpuAbridgedTagWord = 0x81;
            c.FpuInstructionPointer = 0x1_2345_6789;
            c.SetFpuRegister(3, new Sim.Cpu.X87.ExtendedReal(0x4000, 0xC000_0000_0000_0000));
            SetXmm(c, 9, 0x1111, 0x2222);
            RunToEnd(g);
            var m = g.Memory;
            Assert.AreEqual(0x027FUL, m.Read(Data, 2));
            Assert.AreEqual(0x81UL, m.Read(Data + 4, 1));
            Assert.AreEqual(rexW ? 0x1_2345_6789UL : 0x2345_6789UL, m.Read(Data + 8, rexW ? 8 : 4));
            Assert.AreEqual(0x1F80UL, m.Read(Data + 1024, 4));
            Assert.AreEqual(0xFFFFUL, m.Read(Data + 28, 4), "MXCSR_MASK with DAZ");
            Assert.AreEqual(0xC000_0000_0000_0000UL, m.Read(Data + 32, 8), "ST0 = R3 with TOP = 3");
            Assert.AreEqual(0x4000UL, m.Read(Data + 40, 2));
            Assert.AreEqual(0x1111UL, m.Read(Data + 160 + 16 * 9, 8), "XMM9 in 64-bit mode");
            Assert.AreEqual(0x1111UL, Qword(c, 9, 0), "restored");
            Assert.AreEqual(0x7FC0u, c.Mxcsr);
            Assert.AreEqual(0xC000_0000_0000_0000UL, c.GetFpuRegister(3).Significand);
        }
    }

    [TestMethod]
    public void FxsaveFaults()
    {
        using (var g = SimdGuest.Long(a => a.fxsave(__[rsi + 8])))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "misaligned");
        using (var g = SimdGuest.Long(a => a.fxsave(__[rsi])))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.TS, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
            Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector(), "CR0.TS");
        }
        using (var g = SimdGuest.Long(a =>
        {
            a.fxsave(__[rsi]);
            a.mov(__dword_ptr[rsi + 24], 0x10000);
            a.fxrstor(__[rsi]);
        }))
        {
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "reserved MXCSR bit");
            Assert.AreEqual(0x1F80u, g.Cpu.Mxcsr);
        }
    }

    [TestMethod]
    public void FxsaveWithoutOsfxsrLeavesMxcsrAndXmmOut()
    {
        using var g = SimdGuest.Long(a => a.fxsave(__[rsi]), 0);
        g.Memory.Write(Data + 24, 4, 0xDEAD);
        g.Memory.Write(Data + 160, 8, 0xBEEF);
        SetXmm(g.Cpu, 0, 1, 1);
        RunToEnd(g);
        Assert.AreEqual(0xDEADUL, g.Memory.Read(Data + 24, 4));
        Assert.AreEqual(0xBEEFUL, g.Memory.Read(Data + 160, 8));
    }
}
