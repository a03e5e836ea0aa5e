using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>The fault conditions of SDM vol. 2, tables 22-4 to 22-8 and vol. 3, 13.1; CPUID and CR4 announcements.</summary>
[TestClass]
public sealed class SseFaultTests
{
    [TestMethod]
    public void CpuidAnnouncesMmxFxsrSseThroughSse42AesAndPclmulqdq()
    {
        using var g = new GuestRunner();
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out var edx);
        Assert.AreEqual(0xFu << 23, edx & (0xFu << 23), "EDX bits 23–26");
        Assert.AreEqual(1u, ecx & 1, "SSE3");
        Assert.AreEqual(1u << 1, ecx & (1u << 1), "PCLMULQDQ");
        Assert.AreEqual(1u << 9, ecx & (1u << 9), "SSSE3");
        Assert.AreEqual(3u << 19, ecx & (3u << 19), "SSE4.1 and SSE4.2");
        Assert.AreEqual(1u << 23, ecx & (1u << 23), "POPCNT");
        Assert.AreEqual(1u << 25, ecx & (1u << 25), "AES");
    }

    [TestMethod]
    public void WithoutOsfxsrSseIsUndefinedButMmxRuns()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.paddb(mm0, mm1);
            a.addps(xmm0, xmm1);
        }, 0);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void EmGivesUdAndTsGivesNm()
    {
        using (var g = SimdGuest.Long(a => a.addps(xmm0, xmm1)))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.EM, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        }
        using (var g = SimdGuest.Long(a => a.addps(xmm0, xmm1)))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.TS, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
            Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector());
        }
        using (var g = SimdGuest.Long(a => a.paddb(mm0, mm1)))
        {
            g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.EM, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector(), "MMX with CR0.EM");
        }
    }

    [TestMethod]
    public void AlignedFormsFaultOnMisalignedOperandsUnalignedDoNot()
    {
        using (var g = SimdGuest.Long(a => a.movaps(xmm0, __xmmword_ptr[rsi + 8])))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        using (var g = SimdGuest.Long(a => a.addpd(xmm0, __xmmword_ptr[rsi + 4])))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        using (var g = SimdGuest.Long(a => a.movdqa(__xmmword_ptr[rsi + 1], xmm0)))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        using (var g = SimdGuest.Long(a =>
        {
            a.movups(xmm0, __xmmword_ptr[rsi + 8]);
            a.addss(xmm0, __dword_ptr[rsi + 3]);
            a.movdqu(__xmmword_ptr[rsi + 1], xmm0);
        }))
            RunToEnd(g);
    }

    [TestMethod]
    public void StackSegmentOperandOutsideCanonicalRangeGivesSs()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.mov(rbp, 0x0000_8000_0000_0000UL);
            a.movups(xmm0, __xmmword_ptr[rbp]);
        });
        Assert.AreEqual((int)ExceptionVector.SS, g.RunToVector());
    }

    [TestMethod]
    public void UnmaskedExceptionRaisesXmWithoutWritingTheDestination()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.ldmxcsr(__dword_ptr[rsi]);
            a.divps(xmm0, xmm1);
        });
        g.Memory.Write(Data, 4, 0x1F80 & ~0x200u);
        SetSingles(g.Cpu, 0, 1, 2, 3, 4);
        SetSingles(g.Cpu, 1, 1, 0, 1, 1);
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector());
        Assert.AreEqual(Bits(2), Dword(g.Cpu, 0, 1), "destination unchanged");
        Assert.AreEqual(4u, g.Cpu.Mxcsr & 0x3F, "ZE set");
    }

    [TestMethod]
    public void UnmaskedExceptionWithoutOsxmmexcptRaisesUd()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.ldmxcsr(__dword_ptr[rsi]);
            a.divss(xmm0, xmm1);
        }, Cr4.OSFXSR);
        g.Memory.Write(Data, 4, 0x1F80 & ~0x200u);
        SetSingles(g.Cpu, 0, 1);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void LdmxcsrReservedBitGivesGp()
    {
        using var g = SimdGuest.Long(a => a.ldmxcsr(__dword_ptr[rsi]));
        g.Memory.Write(Data, 4, 0x10000);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x1F80u, g.Cpu.Mxcsr);
    }

    [TestMethod]
    public void PageCrossingLoadAndFxrstorFaultWithoutChangingState()
    {
        const ulong boundary = 0x21000;
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, boundary, PageTableBuilder.RW);
        t.IdentityMap(boundary + 0x1000, 0x100000 - boundary - 0x1000, PageTableBuilder.RW);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rdi, boundary - 8);
            a.movdqu(xmm0, __xmmword_ptr[rdi]);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, cr4Extra: Cr4.OSFXSR);
        g.InstallIdt(64);
        SetXmm(g.Cpu, 0, 0x1234, 0x5678);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(boundary, g.Cpu.Cr2);
        Assert.AreEqual(0x1234UL, Qword(g.Cpu, 0, 0), "XMM0 unchanged");

        using var h = new GuestRunner();
        var u = new PageTableBuilder(h.Memory, PagingMode.FourLevel);
        u.IdentityMap(0, boundary, PageTableBuilder.RW);
        u.IdentityMap(boundary + 0x1000, 0x100000 - boundary - 0x1000, PageTableBuilder.RW);
        h.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rdi, boundary - 256);
            a.fxrstor(__[rdi]);
            a.hlt();
        });
        h.StartPaged(GuestRunner.CodeAddress, u, cr4Extra: Cr4.OSFXSR);
        h.InstallIdt(64);
        h.Memory.Write(boundary - 256, 2, 0x0000);
        Assert.AreEqual((int)ExceptionVector.PF, h.RunToVector());
        Assert.AreEqual(0x0040, h.Cpu.FpuControlWord, "FCW as it was: the image is read whole before anything changes");
    }

    [TestMethod]
    public void PageCrossingStoreFaultsBeforeWritingTheFirstPage()
    {
        const ulong boundary = 0x21000;
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, boundary, PageTableBuilder.RW);
        t.IdentityMap(boundary + 0x1000, 0x100000 - boundary - 0x1000, PageTableBuilder.RW);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rdi, boundary - 8);
            a.movups(__xmmword_ptr[rdi], xmm0);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, cr4Extra: Cr4.OSFXSR);
        g.InstallIdt(64);
        SetXmm(g.Cpu, 0, ulong.MaxValue, ulong.MaxValue);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(boundary, g.Cpu.Cr2);
        Assert.AreEqual(0UL, g.Memory.Read(boundary - 8, 8), "the first page is untouched");
    }
}
