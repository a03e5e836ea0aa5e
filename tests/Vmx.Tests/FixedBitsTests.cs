using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// The VMX-fixed bits of CR0 and CR4 (SDM vol. 3, 24.8 and appendix A.7, A.8): what
/// IA32_VMX_CR0/CR4_FIXED0/FIXED1 report, and that VMXON, MOV to CR in VMX operation and the
/// VM-entry checks on the guest and host CR0/CR4 (27.2.2, 27.3.1.1) all follow from those values.
/// </summary>
[TestClass]
public sealed class FixedBitsTests
{
    private static readonly VmxResult Gp = VmxResult.Fault(ExceptionVector.GP);

    [TestMethod]
    public void FixedOneMsrsReportTheBitsThatMayBeOne()
    {
        using var m = new VmxMachine();
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxCr0Fixed0, out var cr0Fixed0));
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxCr0Fixed1, out var cr0Fixed1));
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxCr4Fixed0, out var cr4Fixed0));
        Assert.IsTrue(m.Cpu.TryReadMsr(VmxCapability.Ia32VmxCr4Fixed1, out var cr4Fixed1));
        // A.7: processors report every bit of CR0's low half as allowed to be 1 (FFFFFFFFH), bits 63:32 as fixed to 0.
        Assert.AreEqual(0xFFFFFFFFUL, cr0Fixed1);
        // A.8: FIXED1 holds the CR4 bits the processor supports; MOV to CR4 refuses the others.
        Assert.AreEqual(Cr4.Supported, cr4Fixed1);
        Assert.AreEqual(Cr4.VMXE, cr4Fixed0);
        // A.7, A.8: a bit fixed to 1 is also allowed to be 1.
        Assert.AreEqual(0UL, cr0Fixed0 & ~cr0Fixed1);
        Assert.AreEqual(0UL, cr4Fixed0 & ~cr4Fixed1);
    }

    [TestMethod]
    public void VmxonFaultsOnACr4BitOutsideFixed1()
    {
        using var m = new VmxMachine();
        // VMXON "Operation": #GP(0) when CR4 is not within IA32_VMX_CR4_FIXED0/FIXED1.
        m.Cpu.LoadControlState(VmxMachine.HostCr0, VmxMachine.PageTables, VmxMachine.HostCr4 | Cr4.SMXE, Efer.LME | Efer.LMA);
        Assert.AreEqual(Gp, m.Unit.Vmxon(VmxMachine.VmxonRegion), "CR4.SMXE is 0 in IA32_VMX_CR4_FIXED1");
        m.Cpu.LoadControlState(VmxMachine.HostCr0, VmxMachine.PageTables, VmxMachine.HostCr4 | Cr4.SMEP, Efer.LME | Efer.LMA);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxon(VmxMachine.VmxonRegion), "CR4.SMEP is supported: FIXED1 allows it");
    }

    [TestMethod]
    public void VmxonDoesNotFaultOnCr0BitsThatFixed1Allows()
    {
        using var m = new VmxMachine();
        // CD, NW, AM, WP, MP are flexible (0 in FIXED0, 1 in FIXED1): VMXON accepts them.
        m.Cpu.LoadControlState(VmxMachine.HostCr0 | Cr0.CD | Cr0.NW | Cr0.AM | Cr0.WP | Cr0.MP, VmxMachine.PageTables, VmxMachine.HostCr4, Efer.LME | Efer.LMA);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmxon(VmxMachine.VmxonRegion));
    }

    [TestMethod]
    public void GuestCr0ReservedLowBitIsAllowedAndNotLoaded()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(rax, cr0); a.hlt(); });
        // 27.3.1.1: only bits fixed in VMX operation are checked, and FIXED1 allows bit 20;
        // 27.3.2.1: VM entry leaves CR0 bits 28:19 as they were.
        m.Write(VmcsField.GuestCr0, VmxMachine.HostCr0 | (1UL << 20));
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
        Assert.AreEqual(0UL, m.Cpu.Rax & (1UL << 20));
    }

    [TestMethod]
    public void GuestCr0HighBitFailsTheEntry()
    {
        using var m = new VmxMachine().Ready();
        m.Write(VmcsField.GuestCr0, VmxMachine.HostCr0 | (1UL << 32));
        Assert.AreEqual(VmxResult.EntryFailure, m.Unit.Vmlaunch());
        Assert.AreEqual(0x80000021u, m.Exits[^1].ExitReason, "bit 32 is 0 in IA32_VMX_CR0_FIXED1 (27.3.1.1)");
    }

    [TestMethod]
    public void GuestCr4BitOutsideFixed1FailsTheEntry()
    {
        using var m = new VmxMachine().Ready();
        m.Write(VmcsField.GuestCr4, VmxMachine.HostCr4 | Cr4.SMXE);
        Assert.AreEqual(VmxResult.EntryFailure, m.Unit.Vmlaunch());
        Assert.AreEqual(0x80000021u, m.Exits[^1].ExitReason, "27.3.1.1: CR4 within IA32_VMX_CR4_FIXED1");
    }

    [TestMethod]
    public void HostCr0AndCr4FollowTheSameFixedBits()
    {
        using var m = new VmxMachine().Ready();
        m.Write(VmcsField.HostCr0, VmxMachine.HostCr0 | (1UL << 32));
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmEntryWithInvalidHostStateFields), m.Unit.Vmlaunch(), "27.2.2: host CR0 bit 32 is fixed to 0");
        m.Write(VmcsField.HostCr0, VmxMachine.HostCr0);
        m.Write(VmcsField.HostCr4, VmxMachine.HostCr4 | Cr4.SMXE);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmEntryWithInvalidHostStateFields), m.Unit.Vmlaunch(), "27.2.2: host CR4.SMXE is fixed to 0");
        m.Write(VmcsField.HostCr4, VmxMachine.HostCr4);
        m.Write(VmcsField.HostCr0, VmxMachine.HostCr0 | (1UL << 20));
        m.Code(a => a.hlt());
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason, "a reserved low CR0 bit is allowed by FIXED1");
    }

    [TestMethod]
    public void GuestMovToCr0WithAReservedLowBitIsNotAVmxFault()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(rax, cr0); a.or(eax, 1 << 20); a.mov(cr0, rax); a.hlt(); });
        // 24.8: only a bit fixed in VMX operation makes MOV to CR0 #GP; FIXED1 allows bit 20.
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
    }
}
