using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Timing;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>VM-exit controls, MSR-store and MSR-load lists, the host-state load and VMX abort (SDM vol. 3, 28.3–28.7).</summary>
[TestClass]
public sealed class ExitControlTests
{
    /// <summary>MSR bitmaps of zeros: no RDMSR/WRMSR of the low and high ranges exits (25.6.9).</summary>
    private static void AllowMsrs(VmxMachine m)
    {
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.UseMsrBitmaps);
        m.Write(VmcsField.MsrBitmap, VmxMachine.MsrBitmap);
    }

    [TestMethod]
    public void HostStateIsLoadedAsTheSdmSays()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(eax, 0x2B); a.hlt(); });
        m.Write(VmcsField.HostFsBase, 0x1111_0000);
        m.Write(VmcsField.HostGsBase, 0x2222_0000);
        m.Write(VmcsField.HostDsSelector, 0);
        m.Write(VmcsField.HostIa32SysenterCs, 0x77);
        m.LaunchAndRun();
        var cs = m.Cpu.GetSegment(SegmentIndex.CS);
        Assert.AreEqual(VmxMachine.CodeSelector, cs.Selector);
        Assert.AreEqual(0UL, cs.Base);
        Assert.AreEqual(0xFFFFFFFFu, cs.Limit);
        Assert.IsTrue(cs.Long, "CS.L = host address-space size (28.5.2)");
        Assert.AreEqual(0x1111_0000UL, m.Cpu.GetSegment(SegmentIndex.FS).Base);
        Assert.AreEqual(0x2222_0000UL, m.Cpu.GetSegment(SegmentIndex.GS).Base);
        Assert.IsTrue(m.Cpu.GetSegment(SegmentIndex.DS).Unusable, "a null host selector leaves the register unusable");
        Assert.AreEqual(0xFFFF, m.Cpu.Gdtr.Limit, "GDTR and IDTR limits are set to FFFFh");
        Assert.AreEqual(0x67u, m.Cpu.Tr.Limit);
        Assert.AreEqual(11, m.Cpu.Tr.Type, "busy 64-bit TSS");
        Assert.IsTrue(m.Cpu.Ldtr.Unusable);
        Assert.AreEqual(0x77UL, m.Cpu.SysenterCs);
        Assert.AreEqual(0x400UL, m.Cpu.GetDebugRegister(7), "DR7 is 400h after a VM exit");
        Assert.IsTrue(m.Cpu.InLongMode);
    }

    [TestMethod]
    public void EntryLeavesCr0EtCdNwUnmodifiedAndFixesDr7Bits()
    {
        // 27.3.2.1: VM entry never modifies CR0.ET, NW, CD (nor the reserved bits); with "load debug controls",
        // DR7 is loaded with bits 12 and 15:14 always 0 and bit 10 always 1.
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Write(VmcsField.GuestCr0, (VmxMachine.HostCr0 & ~Cr0.ET) | Cr0.CD | Cr0.NW);
        m.SetControl(VmcsField.VmEntryControls, VmEntryControls.LoadDebugControls);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.SaveDebugControls);
        m.Write(VmcsField.GuestDr7, 0xD001);
        m.LaunchAndRun();
        var cr0 = m.Read(VmcsField.GuestCr0);
        Assert.AreEqual(Cr0.ET, cr0 & (Cr0.ET | Cr0.CD | Cr0.NW), "the host's ET = 1, CD = NW = 0 were kept");
        Assert.AreEqual(0x401UL, m.Read(VmcsField.GuestDr7));
    }

    [TestMethod]
    public void NullHostSsSelectorLeavesSsUnusableWithDplZero()
    {
        // 28.5.2: a segment register other than CS and TR is unusable if its selector is loaded with 0;
        // SS may be loaded with 0 on a VM exit to 64-bit mode; its DPL is cleared to 0 in any case.
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Write(VmcsField.HostSsSelector, 0);
        m.LaunchAndRun();
        var ss = m.Cpu.GetSegment(SegmentIndex.SS);
        Assert.AreEqual(0, ss.Selector);
        Assert.IsTrue(ss.Unusable, "SS with a null selector is unusable");
        Assert.AreEqual(0, ss.Dpl);
        Assert.AreEqual(0, m.Cpu.Cpl);
    }

    [TestMethod]
    public void GuestStateIsSaved()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(ecx, 0x174); a.mov(eax, 0x55); a.xor(edx, edx); a.wrmsr(); a.hlt(); });
        AllowMsrs(m);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.CodeSelector);
        m.Write(VmcsField.GuestSsSelector, VmxMachine.DataSelector);
        m.Write(VmcsField.VmEntryControls, VmEntryControls.TrueDefault1 | VmEntryControls.Ia32eModeGuest);
        m.LaunchAndRun();
        Assert.AreEqual(0x55UL, m.Read(VmcsField.GuestIa32SysenterCs));
        Assert.AreEqual(VmxMachine.PageTables, m.Read(VmcsField.GuestCr3));
        Assert.AreEqual(0xA09BUL, m.Read(VmcsField.GuestCsAccessRights) & 0xF0FF);
        Assert.AreNotEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.Ia32eModeGuest, "IA-32e mode guest records EFER.LMA (IA32_VMX_MISC bit 5)");
    }

    [TestMethod]
    public void EferAndPatSaveAndLoad()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.SetControl(VmcsField.VmEntryControls, VmEntryControls.LoadIa32Efer | VmEntryControls.LoadIa32Pat);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.SaveIa32Efer | VmExitControls.SaveIa32Pat | VmExitControls.LoadIa32Efer | VmExitControls.LoadIa32Pat);
        m.Write(VmcsField.GuestIa32Efer, Efer.LME | Efer.LMA | Efer.NXE | Efer.SCE);
        m.Write(VmcsField.GuestIa32Pat, 0x0606060606060606);
        m.Write(VmcsField.HostIa32Efer, Efer.LME | Efer.LMA);
        m.Write(VmcsField.HostIa32Pat, 0x0000000000000006);
        m.LaunchAndRun();
        Assert.AreEqual(Efer.LME | Efer.LMA | Efer.NXE | Efer.SCE, m.Read(VmcsField.GuestIa32Efer));
        Assert.AreEqual(0x0606060606060606UL, m.Read(VmcsField.GuestIa32Pat));
        Assert.AreEqual(Efer.LME | Efer.LMA, m.Cpu.Efer);
        Assert.AreEqual(6UL, m.Cpu.Pat);
    }

    [TestMethod]
    public void MsrStoreAndLoadLists()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(ecx, 0xC0000081); a.mov(eax, 0xABCD); a.xor(edx, edx); a.wrmsr(); a.hlt(); });
        AllowMsrs(m);
        const ulong store = VmxMachine.MsrArea, load = VmxMachine.MsrArea + 0x100;
        m.Memory.Write(store, 8, Msr.Star);
        m.Memory.Write(load, 8, Msr.Star);
        m.Memory.Write(load + 8, 8, 0x42);
        m.Write(VmcsField.VmExitMsrStoreAddress, store);
        m.Write(VmcsField.VmExitMsrStoreCount, 1);
        m.Write(VmcsField.VmExitMsrLoadAddress, load);
        m.Write(VmcsField.VmExitMsrLoadCount, 1);
        m.LaunchAndRun();
        Assert.AreEqual(0xABCDUL, m.Memory.Read(store + 8, 8), "the guest's IA32_STAR stored on exit (28.4)");
        Assert.AreEqual(0x42UL, m.Cpu.Star, "the host's loaded after the host state (28.6)");
    }

    [TestMethod]
    public void FailedHostMsrLoadIsAVmxAbort()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Memory.Write(VmxMachine.MsrArea, 8, 0x1_0000_0000UL | Msr.Star);
        m.Write(VmcsField.VmExitMsrLoadAddress, VmxMachine.MsrArea);
        m.Write(VmcsField.VmExitMsrLoadCount, 1);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Cpu.Run(m.Cpu.Cycles + 1000);
        Assert.AreEqual(4UL, m.Memory.Read(VmxMachine.VmcsRegion + 4, 4), "VMX-abort indicator 4: failure loading host MSRs (28.7)");
        Assert.AreEqual(ActivityState.Shutdown, m.Cpu.Activity);
        Assert.AreEqual(0, m.Exits.Count, "no exit is reported after an abort");
    }

    [TestMethod]
    public void HostMsrLoadOfFsBaseIsAVmxAbort()
    {
        // 28.6: processing of a VM-exit MSR-load entry fails if bits 31:0 are C0000100H or C0000101H
        // (IA32_FS_BASE, IA32_GS_BASE), which a VM exit loads from the host-state area; the failure is a VMX abort.
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Memory.Write(VmxMachine.MsrArea, 8, Msr.FsBase);
        m.Memory.Write(VmxMachine.MsrArea + 8, 8, 0x1234_0000);
        m.Write(VmcsField.VmExitMsrLoadAddress, VmxMachine.MsrArea);
        m.Write(VmcsField.VmExitMsrLoadCount, 1);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        m.Cpu.Run(m.Cpu.Cycles + 1000);
        Assert.AreEqual(4UL, m.Memory.Read(VmxMachine.VmcsRegion + 4, 4), "VMX-abort indicator 4: failure loading host MSRs");
        Assert.AreEqual(ActivityState.Shutdown, m.Cpu.Activity);
    }

    [TestMethod]
    public void VmreadAndVmwriteChargeTheirCostFromHostSoftwareAndGuestCode()
    {
        using var m = new VmxMachine().Ready();
        m.Unit.Costs = CostModel.Default with { Vmread = 40, Vmwrite = 70 };
        var start = m.Cpu.Cycles;
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmwrite(VmcsField.GuestRsp, 0x1234));
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmread(VmcsField.GuestRsp, out _));
        Assert.AreEqual(start + 110, m.Cpu.Cycles);
        Assert.AreEqual(VmxResultKind.FailValid, m.Unit.Vmread(0xFFFF, out _).Kind, "a VMfail still executes the instruction");
        Assert.AreEqual(start + 150, m.Cpu.Cycles);
    }

    [TestMethod]
    public void ExitAndEntryChargeTheirCost()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Unit.Costs = CostModel.Default with { VmxExit = 1000, VmxEntry = 2000 };
        var start = m.Cpu.Cycles;
        m.LaunchAndRun();
        Assert.AreEqual(start + 3000, m.Cpu.Cycles, "the HLT exits before retiring, so only the modeled costs advance the clock");
    }
}
