using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// The VM-entry checks of SDM vol. 3, chapter 27, table-driven: the baseline VMCS passes them all;
/// each case mutates one field so that exactly one check fails, and the failure must be reported
/// as the SDM says — VMfailValid(7) for VMX controls (27.2.1), VMfailValid(8) for the host-state
/// area (27.2.2–27.2.4), a VM-entry failure with exit reason 33 and bit 31 for the guest-state area
/// (27.3.1, qualification 0, 2, 3 or 4 as in 27.8) and reason 34 for the MSR-load list (27.4).
/// </summary>
[TestClass]
public sealed class VmEntryCheckTests
{
    private const uint Secondary = ProcessorBasedControls.ActivateSecondaryControls;

    private static void Proc(VmxMachine m, uint set) => m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, set);
    private static void Proc2(VmxMachine m, uint set)
    {
        Proc(m, Secondary);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, set);
    }

    private static void ValidEpt(VmxMachine m)
    {
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        for (ulong gb = 0; gb < 4; gb++) ept.Map(gb << 30, gb << 30, level: 3);
        m.Write(VmcsField.EptPointer, ept.Eptp());
    }

    private static void Inject(VmxMachine m, uint info, ulong error = 0, ulong length = 0)
    {
        m.Write(VmcsField.VmEntryInterruptionInformation, info);
        m.Write(VmcsField.VmEntryExceptionErrorCode, error);
        m.Write(VmcsField.VmEntryInstructionLength, length);
    }

    public static IEnumerable<object[]> ControlCases() =>
    [
        ["pin-based reserved-1 bit 1 cleared", (Action<VmxMachine>)(m => m.Write(VmcsField.PinBasedVmExecutionControls, PinBasedControls.Default1 & ~2u))],
        ["pin-based process posted interrupts not supported", (Action<VmxMachine>)(m => m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ProcessPostedInterrupts))],
        ["primary reserved-0 bit 0 set", (Action<VmxMachine>)(m => Proc(m, 1))],
        ["secondary virtualize APIC accesses not supported", (Action<VmxMachine>)(m => Proc2(m, SecondaryProcessorBasedControls.VirtualizeApicAccesses))],
        ["CR3-target count above 4", (Action<VmxMachine>)(m => m.Write(VmcsField.Cr3TargetCount, 5))],
        ["I/O bitmap A not 4-KiB aligned", (Action<VmxMachine>)(m => { Proc(m, ProcessorBasedControls.UseIoBitmaps); m.Write(VmcsField.IoBitmapA, VmxMachine.IoBitmapA + 8); m.Write(VmcsField.IoBitmapB, VmxMachine.IoBitmapB); })],
        ["MSR bitmap beyond the physical-address width", (Action<VmxMachine>)(m => { Proc(m, ProcessorBasedControls.UseMsrBitmaps); m.Write(VmcsField.MsrBitmap, 1UL << 45); })],
        ["virtual-APIC address not aligned", (Action<VmxMachine>)(m => { Proc(m, ProcessorBasedControls.UseTprShadow); m.Write(VmcsField.VirtualApicAddress, VmxMachine.VirtualApic + 0x10); })],
        ["TPR threshold bits 31:4 set", (Action<VmxMachine>)(m => { Proc(m, ProcessorBasedControls.UseTprShadow); m.Write(VmcsField.VirtualApicAddress, VmxMachine.VirtualApic); m.Write(VmcsField.TprThreshold, 0x10); })],
        ["TPR threshold above VTPR[7:4]", (Action<VmxMachine>)(m => { Proc(m, ProcessorBasedControls.UseTprShadow); m.Write(VmcsField.VirtualApicAddress, VmxMachine.VirtualApic); m.Memory.Write(VmxMachine.VirtualApic + 0x80, 4, 0x20); m.Write(VmcsField.TprThreshold, 3); })],
        ["virtual NMIs without NMI exiting", (Action<VmxMachine>)(m => m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.VirtualNmis))],
        ["NMI-window exiting without virtual NMIs", (Action<VmxMachine>)(m => Proc(m, ProcessorBasedControls.NmiWindowExiting))],
        ["EPTP with a page-walk length of 5", (Action<VmxMachine>)(m => { Proc2(m, SecondaryProcessorBasedControls.EnableEpt); m.Write(VmcsField.EptPointer, VmxMachine.EptPool | 6 | (4 << 3)); })],
        ["enable VPID with VPID 0", (Action<VmxMachine>)(m => Proc2(m, SecondaryProcessorBasedControls.EnableVpid))],
        ["unrestricted guest without EPT", (Action<VmxMachine>)(m => Proc2(m, SecondaryProcessorBasedControls.UnrestrictedGuest))],
        ["save preemption-timer value without the timer", (Action<VmxMachine>)(m => m.SetControl(VmcsField.VmExitControls, VmExitControls.SaveVmxPreemptionTimerValue))],
        ["VM-exit reserved-1 bit 0 cleared", (Action<VmxMachine>)(m => m.SetControl(VmcsField.VmExitControls, 0, 1))],
        ["VM-exit MSR-store address not 16-byte aligned", (Action<VmxMachine>)(m => { m.Write(VmcsField.VmExitMsrStoreCount, 1); m.Write(VmcsField.VmExitMsrStoreAddress, VmxMachine.MsrArea + 8); })],
        ["VM-entry MSR-load list beyond the address width", (Action<VmxMachine>)(m => { m.Write(VmcsField.VmEntryMsrLoadCount, 2); m.Write(VmcsField.VmEntryMsrLoadAddress, (1UL << 40) - 16); })],
        ["VM-entry MSR-load count above the 512 entries of IA32_VMX_MISC", (Action<VmxMachine>)(m => { m.Write(VmcsField.VmEntryMsrLoadCount, 513); m.Write(VmcsField.VmEntryMsrLoadAddress, VmxMachine.MsrArea); })],
        ["entry to SMM", (Action<VmxMachine>)(m => m.SetControl(VmcsField.VmEntryControls, VmEntryControls.EntryToSmm))],
        ["other event (type 7) with a vector other than 0 (27.2.1.3)", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (7u << 8) | 1))],
        ["injection of reserved type 1", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (1u << 8) | 32))],
        ["injected NMI with vector 3", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (2u << 8) | 3))],
        ["injected hardware exception with vector 32", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (3u << 8) | 32))],
        ["#UD injected with an error code", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | 0x800 | (3u << 8) | 6))],
        ["#GP injected without an error code", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (3u << 8) | 13))],
        ["error code bits 31:16 set", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | 0x800 | (3u << 8) | 13, 0x10000))],
        ["software interrupt with instruction length 0", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (4u << 8) | 0x30, 0, 0))],
        ["software exception with instruction length 16", (Action<VmxMachine>)(m => Inject(m, 0x80000000u | (6u << 8) | 3, 0, 16))],
        ["interruption information bits 30:12 set", (Action<VmxMachine>)(m => Inject(m, 0x80001000u | 0x20))],
    ];

    public static IEnumerable<object[]> HostCases() =>
    [
        ["host CR0.PE clear (IA32_VMX_CR0_FIXED0)", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCr0, VmxMachine.HostCr0 & ~Cr0.PE))],
        ["host CR3 bit 63 set (27.2.2: bits 63:52 must be 0)", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCr3, VmxMachine.PageTables | (1UL << 63)))],
        ["host CR4.VMXE clear (IA32_VMX_CR4_FIXED0)", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCr4, Cr4.PAE))],
        ["host CR4 bit outside IA32_VMX_CR4_FIXED1", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCr4, VmxMachine.HostCr4 | Cr4.SMXE))],
        ["host CR3 beyond the physical-address width", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCr3, 1UL << 41))],
        ["host SYSENTER_EIP not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.HostIa32SysenterEip, 0x0000_8000_0000_0000))],
        ["host PAT with memory type 2", (Action<VmxMachine>)(m => { m.SetControl(VmcsField.VmExitControls, VmExitControls.LoadIa32Pat); m.Write(VmcsField.HostIa32Pat, 2); })],
        ["host EFER.LMA differs from host address-space size", (Action<VmxMachine>)(m => { m.SetControl(VmcsField.VmExitControls, VmExitControls.LoadIa32Efer); m.Write(VmcsField.HostIa32Efer, Efer.LME); })],
        ["host SS selector with RPL 3", (Action<VmxMachine>)(m => m.Write(VmcsField.HostSsSelector, VmxMachine.DataSelector | 3))],
        ["host DS selector with TI set", (Action<VmxMachine>)(m => m.Write(VmcsField.HostDsSelector, VmxMachine.DataSelector | 4))],
        ["host CS selector null", (Action<VmxMachine>)(m => m.Write(VmcsField.HostCsSelector, 0))],
        ["host TR selector null", (Action<VmxMachine>)(m => m.Write(VmcsField.HostTrSelector, 0))],
        ["host FS base not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.HostFsBase, 0x0001_0000_0000_0000))],
        ["host GDTR base not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.HostGdtrBase, 0x0001_0000_0000_0000))],
        ["host address-space size 0 while IA32_EFER.LMA is 1", (Action<VmxMachine>)(m => m.SetControl(VmcsField.VmExitControls, 0, VmExitControls.HostAddressSpaceSize))],
        ["host RIP not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.HostRip, 0x0000_8000_0000_0000))],
    ];

    public static IEnumerable<object[]> GuestCases() =>
    [
        ["guest CR0.PE clear without unrestricted guest", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr0, VmxMachine.HostCr0 & ~(Cr0.PE | Cr0.PG))), 0UL],
        ["guest CR3 bit 63 set (27.3.1.1: bits 63:52 must be 0)", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr3, VmxMachine.PageTables | (1UL << 63))), 0UL],
        // 27.3.1.2: the SS DPL rules (DPL = RPL without unrestricted guest) hold whether or not SS is usable.
        ["unusable SS with DPL 3 and RPL 0 (CS conforming, DPL 0)", (Action<VmxMachine>)(m =>
        {
            m.Write(VmcsField.GuestCsAccessRights, 0xA09F);
            m.Write(VmcsField.GuestSsSelector, 0);
            m.Write(VmcsField.GuestSsAccessRights, 0x10060);
        }), 0UL],
        ["guest CR0.NE clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr0, VmxMachine.HostCr0 & ~Cr0.NE)), 0UL],
        ["guest CR4.VMXE clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr4, Cr4.PAE)), 0UL],
        ["IA-32e mode guest with CR4.PAE clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr4, Cr4.VMXE)), 0UL],
        ["guest CR3 beyond the physical-address width", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCr3, 1UL << 42)), 0UL],
        ["guest DR7 bits 63:32 with load debug controls", (Action<VmxMachine>)(m => { m.SetControl(VmcsField.VmEntryControls, VmEntryControls.LoadDebugControls); m.Write(VmcsField.GuestDr7, 1UL << 32); }), 0UL],
        ["guest SYSENTER_ESP not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestIa32SysenterEsp, 0x0000_8000_0000_0000)), 0UL],
        ["guest PAT with memory type 3 and load PAT", (Action<VmxMachine>)(m => { m.SetControl(VmcsField.VmEntryControls, VmEntryControls.LoadIa32Pat); m.Write(VmcsField.GuestIa32Pat, 3); }), 0UL],
        ["guest EFER.LMA differs from IA-32e mode guest", (Action<VmxMachine>)(m => { m.SetControl(VmcsField.VmEntryControls, VmEntryControls.LoadIa32Efer); m.Write(VmcsField.GuestIa32Efer, Efer.LME); }), 0UL],
        ["TR with TI set", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestTrSelector, VmxMachine.TssSelector | 4)), 0UL],
        ["SS.RPL differs from CS.RPL", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestSsSelector, VmxMachine.DataSelector | 3)), 0UL],
        ["CS type 3 without unrestricted guest", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCsAccessRights, 0xA093)), 0UL],
        ["SS type 5", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestSsAccessRights, 0xC095)), 0UL],
        ["usable DS not accessed", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestDsAccessRights, 0xC092)), 0UL],
        ["CS not present", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCsAccessRights, 0xA01B)), 0UL],
        ["CS.L and CS.D both set in an IA-32e guest", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCsAccessRights, 0xE09B)), 0UL],
        ["CS access-rights bits 11:8 set", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCsAccessRights, 0xA19B)), 0UL],
        ["DS limit FFFFFFFF with G clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestDsAccessRights, 0x4093)), 0UL],
        ["CS DPL differs from SS DPL for a non-conforming code segment", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestCsAccessRights, 0xA0BB)), 0UL],
        ["TR type 3 in an IA-32e guest", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestTrAccessRights, 0x83)), 0UL],
        ["TR unusable", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestTrAccessRights, 0x1008B)), 0UL],
        ["usable LDTR of type 3", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestLdtrAccessRights, 0x83)), 0UL],
        ["GDTR limit above FFFFh", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestGdtrLimit, 0x10000)), 0UL],
        ["IDTR base not canonical", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestIdtrBase, 0x0000_8000_0000_0000)), 0UL],
        // 27.3.1.4: bits 63:48 must be identical; bit 47 may differ from them (a non-canonical RIP faults on the fetch instead).
        ["RIP bits 63:48 not identical in 64-bit mode", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestRip, 0x0001_0000_0000_0000)), 0UL],
        ["RFLAGS bit 1 clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestRflags, 0)), 0UL],
        ["RFLAGS reserved bit 15 set", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestRflags, 0x8002)), 0UL],
        ["RFLAGS.VM in an IA-32e guest", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestRflags, 0x20002)), 0UL],
        ["external interrupt injected with RFLAGS.IF clear", (Action<VmxMachine>)(m => Inject(m, 0x80000020u)), 0UL],
        ["activity state 4", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestActivityState, 4)), 0UL],
        ["blocking by STI and by MOV SS", (Action<VmxMachine>)(m => { m.Write(VmcsField.GuestRflags, 0x202); m.Write(VmcsField.GuestInterruptibilityState, 3); }), 0UL],
        ["blocking by STI with RFLAGS.IF clear", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestInterruptibilityState, 1)), 0UL],
        ["blocking by SMI outside SMM", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestInterruptibilityState, 4)), 0UL],
        ["interruptibility reserved bit 5", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestInterruptibilityState, 0x20)), 0UL],
        ["pending debug exceptions reserved bit 4", (Action<VmxMachine>)(m => m.Write(VmcsField.GuestPendingDebugExceptions, 0x10)), 0UL],
        ["pending BS without TF while blocked by MOV SS", (Action<VmxMachine>)(m => { m.Write(VmcsField.GuestInterruptibilityState, 2); m.Write(VmcsField.GuestPendingDebugExceptions, 1 << 14); }), 0UL],
        ["wait-for-SIPI with an event injected", (Action<VmxMachine>)(m => { m.Write(VmcsField.GuestActivityState, 3); Inject(m, 0x80000000u | 0x800 | (3u << 8) | 13); }), 0UL],
        ["NMI injected while blocked by STI", (Action<VmxMachine>)(m => { m.Write(VmcsField.GuestRflags, 0x202); m.Write(VmcsField.GuestInterruptibilityState, 1); Inject(m, 0x80000000u | (2u << 8) | 2); }), 3UL],
        ["VMCS link pointer not FFFFFFFF_FFFFFFFFh and not aligned", (Action<VmxMachine>)(m => m.Write(VmcsField.VmcsLinkPointer, VmxMachine.SecondVmcs + 8)), 4UL],
        ["VMCS link pointer equal to the current-VMCS pointer outside SMM", (Action<VmxMachine>)(m => m.Write(VmcsField.VmcsLinkPointer, VmxMachine.VmcsRegion)), 4UL],
        ["PAE paging with a PDPTE reserved bit set (without EPT)", (Action<VmxMachine>)(PaeGuestWithBadPdpte), 2UL],
        // 27.8: qualification 2 is a problem with the PDPTEs of 27.3.1.6, which with EPT are the VMCS fields.
        ["PAE paging under EPT with a PDPTE field reserved bit set", (Action<VmxMachine>)(m =>
        {
            PaeGuestWithBadPdpte(m);
            ValidEpt(m);
            Proc2(m, SecondaryProcessorBasedControls.EnableEpt);
            m.Write(VmcsField.GuestPdpte0, 0x301000 | 1 | 0x20);
        }), 2UL],
    ];

    /// <summary>A 32-bit PAE guest whose PDPT (read through CR3 at entry) has bit 5 set in a present entry.</summary>
    private static void PaeGuestWithBadPdpte(VmxMachine m)
    {
        const ulong pdpt = 0x300000;
        m.Memory.Write(pdpt, 8, 0x301000 | 1 | 0x20);
        m.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        m.Write(VmcsField.GuestIa32Efer, 0);
        m.Write(VmcsField.GuestCr3, pdpt);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
    }

    [TestMethod]
    [DynamicData(nameof(ControlCases))]
    public void InvalidControlFailsValid7(string check, Action<VmxMachine> mutate)
    {
        using var m = new VmxMachine().Ready();
        mutate(m);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmEntryWithInvalidControlFields), m.Unit.Vmlaunch(), check);
        Assert.AreEqual(7UL, m.Read(VmcsField.VmInstructionError), check);
        Assert.IsFalse(m.Unit.InNonRootOperation);
        Assert.AreEqual(0, m.Exits.Count);
    }

    [TestMethod]
    [DynamicData(nameof(HostCases))]
    public void InvalidHostStateFailsValid8(string check, Action<VmxMachine> mutate)
    {
        using var m = new VmxMachine().Ready();
        mutate(m);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmEntryWithInvalidHostStateFields), m.Unit.Vmlaunch(), check);
        Assert.AreEqual(8UL, m.Read(VmcsField.VmInstructionError), check);
        Assert.AreEqual(0, m.Exits.Count);
    }

    [TestMethod]
    [DynamicData(nameof(GuestCases))]
    public void InvalidGuestStateFailsEntryWithReason33(string check, Action<VmxMachine> mutate, ulong qualification)
    {
        using var m = new VmxMachine().Ready();
        mutate(m);
        m.Cpu.Rip = 0x12345;
        Assert.AreEqual(VmxResult.EntryFailure, m.Unit.Vmlaunch(), check);
        Assert.AreEqual(1, m.Exits.Count, check);
        Assert.AreEqual(0x80000021u, m.Exits[0].ExitReason, check);
        Assert.AreEqual(qualification, m.Exits[0].ExitQualification, check);
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip, "host state loaded as on a VM exit (27.8)");
        Assert.IsFalse(m.Unit.InNonRootOperation);
        Assert.AreEqual(VmxResult.FailValid(VmxInstructionError.VmresumeWithNonLaunchedVmcs), m.Unit.Vmresume(), "a failed VMLAUNCH leaves the VMCS clear");
    }

    [TestMethod]
    public void InvalidMsrLoadEntryFailsEntryWithReason34AndItsNumber()
    {
        using var m = new VmxMachine().Ready();
        m.Memory.Write(VmxMachine.MsrArea, 8, Msr.SysenterCs);
        m.Memory.Write(VmxMachine.MsrArea + 8, 8, 0x33);
        m.Memory.Write(VmxMachine.MsrArea + 16, 8, Msr.FsBase);
        m.Write(VmcsField.VmEntryMsrLoadAddress, VmxMachine.MsrArea);
        m.Write(VmcsField.VmEntryMsrLoadCount, 2);
        Assert.AreEqual(VmxResult.EntryFailure, m.Unit.Vmlaunch());
        Assert.AreEqual(0x80000022u, m.Exits[0].ExitReason);
        Assert.AreEqual(2UL, m.Exits[0].ExitQualification, "IA32_FS_BASE may not be loaded from the list; entries count from 1 (27.4)");
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip);
    }

    [TestMethod]
    public void MsrLoadListIsLoadedOnEntry()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Memory.Write(VmxMachine.MsrArea, 8, Msr.Star);
        m.Memory.Write(VmxMachine.MsrArea + 8, 8, 0x1234_5678);
        m.Write(VmcsField.VmEntryMsrLoadAddress, VmxMachine.MsrArea);
        m.Write(VmcsField.VmEntryMsrLoadCount, 1);
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
        Assert.AreEqual(0x1234_5678UL, m.Cpu.Star);
    }

    /// <summary>A real-mode guest at 1000:0000 under unrestricted guest and EPT (27.3.1.1 relaxations), entry controls in <paramref name="clearEntry"/> cleared too.</summary>
    private static void RealModeGuest(VmxMachine m, uint clearEntry = 0)
    {
        ValidEpt(m);
        Proc2(m, SecondaryProcessorBasedControls.EnableEpt | SecondaryProcessorBasedControls.UnrestrictedGuest);
        m.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest | clearEntry);
        m.Write(VmcsField.GuestCr0, Cr0.NE | Cr0.ET);
        m.Write(VmcsField.GuestCr4, Cr4.VMXE);
        m.Write(VmcsField.GuestCsSelector, 0x1000);
        m.Write(VmcsField.GuestCsBase, 0x10000);
        m.Write(VmcsField.GuestCsLimit, 0xFFFF);
        m.Write(VmcsField.GuestCsAccessRights, 0x93);
        foreach (var s in new[] { 0, 2, 3, 4, 5 })
        {
            m.Write((VmcsField)((uint)VmcsField.GuestEsSelector + (uint)s * 2), 0);
            m.Write((VmcsField)((uint)VmcsField.GuestEsLimit + (uint)s * 2), 0xFFFF);
            m.Write((VmcsField)((uint)VmcsField.GuestEsAccessRights + (uint)s * 2), 0x93);
        }
        m.Write(VmcsField.GuestRip, 0);
        m.Write(VmcsField.GuestRsp, 0x7000);
    }

    [TestMethod]
    public void UnrestrictedGuestEntersRealMode()
    {
        using var m = new VmxMachine().Ready();
        RealModeGuest(m);
        m.Write(VmcsField.GuestIa32Efer, 0);
        m.Code(a => { a.mov(ax, 0x1234); a.hlt(); }, VmxMachine.GuestCode, 16);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason, "real mode is a valid guest with unrestricted guest (27.3.1.1)");
        Assert.AreEqual(0x1234UL, m.Cpu.Rax & 0xFFFF);
        Assert.AreEqual(0UL, m.Read(VmcsField.GuestCr0) & Cr0.PE);
    }

    [TestMethod]
    public void WithoutLoadEferLmeIsLoadedOnlyWhenPagingIsEnabled()
    {
        // 27.3.2.1: with "load IA32_EFER" = 0, EFER.LMA is loaded with "IA-32e mode guest", and EFER.LME
        // too only if CR0.PG is being set to 1; with paging off LME keeps its value (here the 64-bit host's 1).
        using var m = new VmxMachine().Ready();
        RealModeGuest(m, VmEntryControls.LoadIa32Efer);
        m.SetControl(VmcsField.VmExitControls, VmExitControls.SaveIa32Efer);
        m.Code(a => a.hlt(), VmxMachine.GuestCode, 16);
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
        var efer = m.Read(VmcsField.GuestIa32Efer);
        Assert.AreEqual(0UL, efer & Efer.LMA, "LMA = \"IA-32e mode guest\" = 0");
        Assert.AreEqual(Efer.LME, efer & Efer.LME, "CR0.PG = 0: LME unmodified by VM entry");
    }

    [TestMethod]
    public void UnusableSsWithMatchingDplIsAValidGuest()
    {
        // 27.3.1.2: an unusable SS is exempt from the type, S and P checks; a 64-bit guest may run with a null SS.
        using var m = new VmxMachine().Ready();
        m.Code(a => a.hlt());
        m.Write(VmcsField.GuestSsSelector, 0);
        m.Write(VmcsField.GuestSsAccessRights, 0x10000);
        Assert.AreEqual(VmExitReason.Hlt, m.LaunchAndRun().BasicReason);
    }

    [TestMethod]
    public void RealModeGuestExceptionExitHasNoErrorCode()
    {
        // 28.2.2: bit 11 of the VM-exit interruption information is set when the exception would have pushed an
        // error code; in real mode (unrestricted guest, CR0.PE = 0) none is pushed, as 27.2.1.3 also requires
        // for the reinjection of that event.
        using var m = new VmxMachine().Ready();
        RealModeGuest(m);
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        m.Code(a => { a.mov(eax, __dword_ptr[0xFFFE]); a.hlt(); }, VmxMachine.GuestCode, 16);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x8000030Du, exit.InterruptionInformation, "#GP, hardware exception, no error code");
    }
}
