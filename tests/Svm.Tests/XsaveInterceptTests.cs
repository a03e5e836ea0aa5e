using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// XSETBV under SVM (APM vol. 2, 15.9 and table 15-7; appendix C: exit code 8Dh) and the XSAVE-managed state across a
/// world switch: VMRUN and #VMEXIT neither save nor load XCR0 or the x87, SSE and AVX registers (15.5.1, 15.6).
/// </summary>
[TestClass]
public sealed class XsaveInterceptTests
{
    private static void XsetbvProgram(Iced.Intel.Assembler a)
    {
        a.xor(ecx, ecx);
        a.xor(edx, edx);
        a.mov(eax, 7);
        a.xsetbv();
        a.hlt();
    }

    [TestMethod]
    public void XsetbvInterceptExitsWithCode8DhBeforeXcr0Changes()
    {
        using var m = new SvmTestMachine();
        m.Vmcb.Write(VmcbLayout.Cr4, 8, Cr4.OSXSAVE);
        m.GuestProgram(XsetbvProgram);
        m.Vmcb.Intercept(SvmIntercept.Xsetbv);
        var v = m.RunToExit(SvmExitCode.Xsetbv);
        Assert.AreEqual(0x8DUL, v.ExitCode);
        Assert.AreEqual(SvmTestMachine.GuestCode + 9, v.Rip, "RIP at XSETBV (after XOR, XOR, MOV: 2 + 2 + 5 bytes)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 12, v.NRip, "nRIP after the 3-byte XSETBV");
        Assert.AreEqual(7UL, v.Rax);
        Assert.AreEqual(1UL, m.Cpu.Xcr0, "XCR0 unchanged");
    }

    [TestMethod]
    public void XsetbvNotInterceptedChangesXcr0AndTheExitKeepsIt()
    {
        using var m = new SvmTestMachine();
        m.Vmcb.Write(VmcbLayout.Cr4, 8, Cr4.OSXSAVE);
        m.GuestProgram(XsetbvProgram);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(7UL, m.Cpu.Xcr0, "the guest's XCR0 stays after #VMEXIT: the world switch does not load XCR0");
    }

    [TestMethod]
    public void XsetbvAtCpl3RaisesGpAheadOfTheIntercept()
    {
        using var m = new SvmTestMachine();
        var v = m.Vmcb;
        v.Write(VmcbLayout.Cr4, 8, Cr4.OSXSAVE);
        v.Segment(VmcbLayout.Cs, 0x1B, 0xCFB, 0xFFFFFFFF, 0);
        foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss }) v.Segment(s, 0x23, 0xCF3, 0xFFFFFFFF, 0);
        v.Write(VmcbLayout.Cpl, 1, 3);
        m.GuestProgram(XsetbvProgram);
        v.Intercept(SvmIntercept.Xsetbv);
        v.InterceptException(ExceptionVector.GP);
        var exit = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        Assert.AreEqual(SvmTestMachine.GuestCode + 9, exit.Rip, "the #GP(0) of CPL > 0 at XSETBV");
        Assert.AreEqual(0UL, exit.ExitInfo1, "error code 0");
    }

    [TestMethod]
    public void WorldSwitchLeavesTheXsaveManagedStateAlone()
    {
        using var m = new SvmTestMachine();
        m.Vmcb.Write(VmcbLayout.Cr4, 8, Cr4.OSFXSR | Cr4.OSXSAVE);
        // The guest reads XCR0 and YMM0's upper half as the host left them.
        m.GuestProgram(a =>
        {
            a.xor(ecx, ecx);
            a.xgetbv();
            a.mov(ebx, eax);
            a.hlt();
        });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Cpu.Xcr0 = 7;
        m.Cpu.FpuControlWord = 0x0262;
        m.Cpu.Mxcsr = 0x1FA0;
        for (var b = 0; b < 32; b++) m.Cpu.VectorRegister(5)[b] = (byte)(b + 1);
        m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(7UL, m.Cpu.Rbx & 0xFFFFFFFF, "the guest saw the host's XCR0");
        Assert.AreEqual(7UL, m.Cpu.Xcr0);
        Assert.AreEqual(0x0262, m.Cpu.FpuControlWord);
        Assert.AreEqual(0x1FA0u, m.Cpu.Mxcsr);
        for (var b = 0; b < 32; b++) Assert.AreEqual((byte)(b + 1), m.Cpu.VectorRegister(5)[b], $"YMM5 byte {b}");
    }

    [TestMethod]
    public void XsaveoptAfterAWorldSwitchSavesWhatTheGuestRestored()
    {
        // The guest's XRSTOR and the host's XSAVEOPT use the same CPL and linear address, and SVM has no VMX non-root bit
        // to tell them apart: #VMEXIT ends XRSTOR_INFO's match, so XSAVEOPT writes XMM0 over what the host put there.
        const ulong area = 0x60000;
        using var m = new SvmTestMachine();
        m.Vmcb.Write(VmcbLayout.Cr4, 8, Cr4.OSFXSR | Cr4.OSXSAVE);
        m.GuestProgram(a =>
        {
            a.mov(esi, (uint)area);
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xrstor(__[esi]);
            a.hlt();
        });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Code(64, SvmTestMachine.HostCode, a =>
        {
            a.mov(esi, (uint)area);
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsaveopt64(__[rsi]);
            a.hlt();
        });
        m.Cpu.LoadControlState(m.Cpu.Cr0, m.Cpu.Cr3, m.Cpu.Cr4 | Cr4.OSFXSR | Cr4.OSXSAVE, m.Cpu.Efer);
        m.Cpu.Xcr0 = 3;
        m.Memory.WriteBytes(area, new byte[576]);
        m.Memory.Write(area, 2, 0x037F);
        m.Memory.Write(area + 24, 4, 0x1F80);
        m.Memory.Write(area + 160, 8, 0x1234);
        m.Memory.Write(area + 512, 8, 3);
        m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x1234UL, BitConverter.ToUInt64(m.Cpu.VectorRegister(0)[..8]), "the guest's XRSTOR loaded XMM0");
        m.Memory.Write(area + 160, 8, 0xEEEE);
        m.Cpu.Run(m.Cpu.Cycles + 1000);
        Assert.AreEqual(0x1234UL, m.Memory.Read(area + 160, 8), "the host's XSAVEOPT saved XMM0");
    }
}
