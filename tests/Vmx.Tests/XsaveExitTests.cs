using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// The XSAVE feature set in VMX non-root operation (SDM vol. 3): XSETBV exits unconditionally (26.1.2, basic reason 55)
/// after the privilege check (26.1.1); XSAVES and XRSTORS are #UD unless "enable XSAVES/XRSTORS" (secondary control 20)
/// is 1, and then exit (reasons 63, 64) only when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap is not zero
/// (26.1.3, 26.3) — with no supervisor component, IA32_XSS is 0, so they run; VM entry and VM exit leave XCR0 and the
/// x87, SSE and AVX registers alone (no VMCS field holds them).
/// </summary>
[TestClass]
public sealed class XsaveExitTests
{
    private const ulong G = VmxMachine.GuestCode;
    private const ulong Area = 0x300000;

    private static VmxMachine Guest(Action<Iced.Intel.Assembler> code, uint proc2 = 0)
    {
        var m = new VmxMachine().Ready();
        m.Code(code);
        m.Write(VmcsField.GuestCr4, VmxMachine.HostCr4 | Cr4.OSFXSR | Cr4.OSXSAVE);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, proc2);
        return m;
    }

    private static void Xsetbv(Iced.Intel.Assembler a)
    {
        a.xor(ecx, ecx);
        a.xor(edx, edx);
        a.mov(eax, 7);
        a.xsetbv();
    }

    /// <summary>Guest CS, SS and data segments at DPL 3 (RPL 3 selectors), so the guest runs at CPL 3.</summary>
    private static void AtCpl3(VmxMachine m)
    {
        m.Write(VmcsField.GuestCsSelector, 0x33);
        m.Write(VmcsField.GuestCsAccessRights, 0xA0FB);
        foreach (var s in new[] { 0, 2, 3, 4, 5 })
        {
            m.Write((VmcsField)((uint)VmcsField.GuestEsSelector + (uint)s * 2), 0x2B);
            m.Write((VmcsField)((uint)VmcsField.GuestEsAccessRights + (uint)s * 2), 0xC0F3);
        }
    }

    [TestMethod]
    public void XsetbvExitsUnconditionallyWithReason55()
    {
        using var m = Guest(Xsetbv);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Xsetbv, exit.BasicReason);
        Assert.AreEqual(55u, exit.ExitReason);
        Assert.AreEqual(0UL, exit.ExitQualification);
        Assert.AreEqual(3u, exit.InstructionLength, "0F 01 D1");
        Assert.AreEqual(G + 9, m.Read(VmcsField.GuestRip), "RIP at XSETBV");
        Assert.AreEqual(1UL, m.Cpu.Xcr0, "XSETBV did not execute");
    }

    [TestMethod]
    public void XsetbvAtCpl3RaisesGpRatherThanExiting()
    {
        using var m = Guest(Xsetbv);
        AtCpl3(m);
        m.Write(VmcsField.ExceptionBitmap, 1 << ExceptionVector.GP);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason, "a fault based on privilege level has priority over the exit (26.1.1)");
        Assert.AreEqual(0x80000B0Du, exit.InterruptionInformation, "#GP, hardware exception, error code valid");
        Assert.AreEqual(0u, exit.InterruptionErrorCode);
        Assert.AreEqual(G + 9, m.Read(VmcsField.GuestRip));
    }

    [TestMethod]
    public void XsetbvWithoutOsxsaveIsUndefinedRatherThanExiting()
    {
        using var m = Guest(Xsetbv);
        m.Write(VmcsField.GuestCr4, VmxMachine.HostCr4);
        m.Write(VmcsField.ExceptionBitmap, 1 << ExceptionVector.UD);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation, "#UD, hardware exception");
    }

    [TestMethod]
    public void XsavesAndXrstorsAreUndefinedWithoutTheControl()
    {
        foreach (var restore in new[] { false, true })
        {
            using var m = Guest(a =>
            {
                a.mov(rsi, Area);
                a.mov(eax, 7);
                a.xor(edx, edx);
                if (restore) a.xrstors64(__[rsi]);
                else a.xsaves64(__[rsi]);
            });
            m.Write(VmcsField.ExceptionBitmap, 1 << ExceptionVector.UD);
            var exit = m.LaunchAndRun();
            Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason, restore ? "XRSTORS" : "XSAVES");
            Assert.AreEqual(0x80000306u, exit.InterruptionInformation, "#UD");
        }
    }

    [TestMethod]
    public void UndefinedWithoutTheControlEvenAtCpl3()
    {
        using var m = Guest(a => { a.mov(rsi, Area); a.xsaves64(__[rsi]); });
        AtCpl3(m);
        m.Write(VmcsField.ExceptionBitmap, (1 << ExceptionVector.UD) | (1 << ExceptionVector.GP));
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation, "#UD comes before the #GP of CPL > 0");
    }

    [TestMethod]
    public void WithTheControlXsavesRunsWhileIa32XssIsZeroWhateverTheBitmap()
    {
        using var m = Guest(a =>
        {
            a.mov(rsi, Area);
            a.mov(eax, -1);
            a.mov(edx, -1);
            a.xsaves64(__[rsi]);
            a.xrstors64(__[rsi]);
            a.cpuid();
        }, SecondaryProcessorBasedControls.EnableXsavesXrstors);
        m.Write(VmcsField.XssExitingBitmap, ulong.MaxValue);
        m.Memory.WriteBytes(Area + 512, new byte[64]);
        m.Cpu.Xcr0 = 3;
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason, "EDX:EAX AND IA32_XSS (0) AND the bitmap is 0: no exit");
        Assert.AreEqual(0x8000_0000_0000_0003UL, m.Memory.Read(Area + 520, 8), "XSAVES wrote XCOMP_BV = RFBM | bit 63");
    }

    [TestMethod]
    public void XsavesAtCpl3FaultsWithTheControlSet()
    {
        using var m = Guest(a => { a.mov(rsi, Area); a.xsaves64(__[rsi]); }, SecondaryProcessorBasedControls.EnableXsavesXrstors);
        AtCpl3(m);
        m.Write(VmcsField.ExceptionBitmap, 1 << ExceptionVector.GP);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000B0Du, exit.InterruptionInformation, "#GP(0)");
    }

    [TestMethod]
    public void TheControlAndTheBitmapAreSupported()
    {
        using var m = new VmxMachine().Ready();
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxProcbasedCtls2, out var ctls2));
        Assert.AreNotEqual(0UL, ctls2 & (1UL << (32 + 20)), "allowed-1 setting of \"enable XSAVES/XRSTORS\"");
        m.Write(VmcsField.XssExitingBitmap, 0x1234_5678_9ABC_DEF0);
        Assert.AreEqual(0x1234_5678_9ABC_DEF0UL, m.Read(VmcsField.XssExitingBitmap), "the 64-bit field at 202CH");
    }

    [TestMethod]
    public void VmEntryAndExitLeaveXcr0AndTheRegisterStateAlone()
    {
        using var m = Guest(a =>
        {
            a.xor(ecx, ecx);
            a.xgetbv();
            a.mov(ebx, eax);
            a.cpuid();
        });
        m.Cpu.Xcr0 = 7;
        m.Cpu.FpuControlWord = 0x0262;
        m.Cpu.FpuStatusWord = 0x3800;
        m.Cpu.Mxcsr = 0x1FA0;
        for (var b = 0; b < 32; b++) m.Cpu.VectorRegister(9)[b] = (byte)(0x80 + b);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason);
        Assert.AreEqual(7UL, m.Cpu.Rbx & 0xFFFFFFFF, "the guest saw the host's XCR0");
        Assert.AreEqual(7UL, m.Cpu.Xcr0);
        Assert.AreEqual(0x0262, m.Cpu.FpuControlWord);
        Assert.AreEqual(0x3800, m.Cpu.FpuStatusWord);
        Assert.AreEqual(0x1FA0u, m.Cpu.Mxcsr);
        for (var b = 0; b < 32; b++) Assert.AreEqual((byte)(0x80 + b), m.Cpu.VectorRegister(9)[b], $"YMM9 byte {b}");
        Assert.IsFalse(m.Cpu.InVmxNonRootOperation, "XRSTOR_INFO's VMX non-root bit follows the unit");
    }

    [TestMethod]
    public void XsaveoptInTheHostAfterTheGuestsXrstorSavesInFull()
    {
        // XRSTOR_INFO records VMX non-root operation (SDM vol. 1, 13.6): the host's XSAVEOPT to the address the guest's XRSTOR
        // used, at the same CPL, does not match it, so it writes XMM0 over what the host put there.
        using var m = Guest(a =>
        {
            a.mov(rsi, Area);
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xrstor64(__[rsi]);
            a.cpuid();
        });
        m.Code(a =>
        {
            a.mov(rsi, Area);
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsaveopt64(__[rsi]);
            a.hlt();
        }, VmxMachine.HostCode);
        m.Write(VmcsField.HostCr4, VmxMachine.HostCr4 | Cr4.OSFXSR | Cr4.OSXSAVE);
        m.Cpu.Xcr0 = 3;
        m.Memory.WriteBytes(Area, new byte[576]);
        m.Memory.Write(Area, 2, 0x037F);
        m.Memory.Write(Area + 24, 4, 0x1F80);
        m.Memory.Write(Area + 160, 8, 0x1234);
        m.Memory.Write(Area + 512, 8, 3);
        Assert.AreEqual(VmExitReason.Cpuid, m.LaunchAndRun().BasicReason);
        Assert.AreEqual(0x1234UL, BitConverter.ToUInt64(m.Cpu.VectorRegister(0)[..8]), "the guest's XRSTOR loaded XMM0");
        m.Memory.Write(Area + 160, 8, 0xEEEE);
        m.Cpu.Run(m.Cpu.Cycles + 1000);
        Assert.AreEqual(0x1234UL, m.Memory.Read(Area + 160, 8), "the host's XSAVEOPT saved XMM0");
    }
}
