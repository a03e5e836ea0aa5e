using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>The REX forms (XMM8–15, REX.W general registers) and the instructions with implicit or GPR operands.</summary>
[TestClass]
public sealed class Sse64BitFormTests
{
    [TestMethod]
    public void RexWMovesAndConversions()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(rax, 0x0020_0000_0000_0001UL);
            a.movq(xmm8, rax);
            a.cvtsi2sd(xmm9, rax);
            a.cvtsi2ss(xmm10, rax);
            a.mov(rcx, 0x43E0_0000_0000_0000UL);
            a.movq(xmm11, rcx);
            a.cvttsd2si(rdx, xmm11);
            a.movq(rbx, xmm8);
            a.movd(r8d, xmm9);
        });
        RunToEnd(g);
        var c = g.Cpu;
        Assert.AreEqual(0x0020_0000_0000_0001UL, Qword(c, 8, 0));
        Assert.AreEqual(0UL, Qword(c, 8, 1), "MOVQ xmm, r64 zero-extends");
        Assert.AreEqual(BitConverter.DoubleToUInt64Bits(9007199254740992.0), Qword(c, 9, 0), "2^53 + 1 rounds to even");
        Assert.AreEqual(Bits(9007199254740992f), Dword(c, 10, 0));
        Assert.AreEqual(0x8000_0000_0000_0000UL, c.Rdx, "2^63 is out of range: the 64-bit integer indefinite");
        Assert.AreEqual(0x0020_0000_0000_0001UL, c.Rbx);
        Assert.AreEqual(0UL, c.GetGpr(8) >> 32, "a 32-bit destination is zero-extended");
        Assert.AreEqual(0x21u, c.Mxcsr & 0x3F, "PE from the roundings, IE from the out-of-range conversion");
    }

    [TestMethod]
    public void MaskedMoveWritesOnlySelectedBytes()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(rdi, Data + 0x100);
            a.maskmovdqu(xmm1, xmm2);
        });
        SetXmm(g.Cpu, 1, 0x1111_1111_1111_1111, 0x2222_2222_2222_2222);
        SetXmm(g.Cpu, 2, 0x0000_0000_0000_80FF, 0x8000_0000_0000_0000);
        g.Memory.Write(Data + 0x100, 8, 0xAAAA_AAAA_AAAA_AAAA);
        g.Memory.Write(Data + 0x108, 8, 0xAAAA_AAAA_AAAA_AAAA);
        RunToEnd(g);
        Assert.AreEqual(0xAAAA_AAAA_AAAA_1111UL, g.Memory.Read(Data + 0x100, 8));
        Assert.AreEqual(0x22AA_AAAA_AAAA_AAAAUL, g.Memory.Read(Data + 0x108, 8));
    }

    [TestMethod]
    public void InsertExtractAndNonTemporalStores()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(eax, 0xBEEF);
            a.pinsrw(xmm12, eax, 5);
            a.pextrw(ecx, xmm12, 5);
            a.movntdq(__xmmword_ptr[rsi], xmm12);
            a.movnti(__qword_ptr[rsi + 16], rcx);
        });
        RunToEnd(g);
        Assert.AreEqual(0xBEEFUL, g.Cpu.Rcx);
        Assert.AreEqual(0xBEEFUL << 16, g.Memory.Read(Data + 8, 8));
        Assert.AreEqual(0xBEEFUL, g.Memory.Read(Data + 16, 8));
    }

    [TestMethod]
    public void LockPrefixIsUndefinedEvenWithTs()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.db(0xF0, 0x0F, 0x58, 0xC1);
            a.hlt();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.TS, g.Cpu.Cr3, g.Cpu.Cr4 | Cr4.OSFXSR, g.Cpu.Efer);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }
}
