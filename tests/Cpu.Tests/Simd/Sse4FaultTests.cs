using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The exception classes of SSSE3 … PCLMULQDQ (SDM vol. 2, 2.4, tables 2-19 to 2-21): 16-byte alignment for the legacy
/// m128 forms but for PCMPxSTRx and the narrow sources, none for VEX forms; the MMX forms' CR0.EM and state transition.
/// </summary>
[TestClass]
public sealed class Sse4FaultTests
{
    [TestMethod]
    public void StringCompareAndNarrowSourcesNeedNoAlignment()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pcmpistri(xmm0, __xmmword_ptr[rsi + 1], 0);
            a.pmovzxbw(xmm1, __qword_ptr[rsi + 3]);
            a.roundss(xmm2, __dword_ptr[rsi + 5], 0);
            a.pshufb(xmm0, __xmmword_ptr[rsi + 1]);
        });
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "PSHUFB m128 is a type 4 form: misaligned is #GP(0)");
        Assert.AreEqual(16UL, g.Cpu.Rcx, "the comparisons before it ran");
    }

    [TestMethod]
    public void VexFormsNeedNoAlignmentButVmovntdqa()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vpshufb(xmm0, xmm1, __xmmword_ptr[rsi + 1]);
            a.vdpps(ymm2, ymm3, __ymmword_ptr[rsi + 7], 0xFF);
            a.vmovntdqa(xmm4, __xmmword_ptr[rsi + 1]);
        });
        AvxGuest.SetYmm(g.Cpu, 1, 0x4242_4242_4242_4242, 0x4242_4242_4242_4242);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "VMOVNTDQA is exception class 1: aligned");
        Assert.AreEqual(0x4242_4242_4242_4242UL, Qword(g.Cpu, 0, 0), "VPSHUFB with zero indices from the misaligned operand ran");
    }

    [TestMethod]
    public void MmxFormsFollowTheMmxChecksAndTransition()
    {
        using (var g = SimdGuest.Long(a => a.pabsb(mm0, mm1)))
        {
            g.Cpu.FpuStatusWord = 0x3800;
            g.Cpu.FpuAbridgedTagWord = 0;
            RunToEnd(g);
            Assert.AreEqual(0, (g.Cpu.FpuStatusWord >> 11) & 7, "TOP = 0");
            Assert.AreEqual((byte)0xFF, g.Cpu.FpuAbridgedTagWord, "every register valid");
        }
        using (var g = SimdGuest.Long(a => a.pshufb(mm0, mm1)))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.EM, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector(), "CR0.EM");
        }
    }

    [TestMethod]
    public void Crc32IsNotGatedBySseState()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(eax, 1);
            a.xor(ecx, ecx);
            a.crc32(eax, cl);
            a.hlt();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.EM | Cr0.TS, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
        RunToEnd(g);
        Assert.AreEqual(0xF26B_8303UL, g.Cpu.Rax, "one zero byte from 1: the table entry for 1 of the reflected polynomial 82F63B78h");
    }
}
