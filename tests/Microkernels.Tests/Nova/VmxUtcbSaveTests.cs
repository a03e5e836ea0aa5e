using Sim.Cpu.Registers;
using Sim.Microkernels.Nova;
using Sim.Vmx;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>save_vmx: what the reply's mtd word selects reaches the VMCS and the frame, and nothing else does.</summary>
[TestClass]
public sealed class VmxUtcbSaveTests
{
    private const ulong U = NovaVmxMachine.Utcb;

    private static void Reply(NovaVmxMachine m, Mtd mtd) => m.Memory.Write(U + 0x20, 8, (uint)mtd);

    private static void Put(NovaVmxMachine m, int offset, ulong value, int size = 8) => m.Memory.Write(U + (ulong)offset, size, value);

    [TestMethod]
    public void GeneralPurposeRegistersGoToTheFrameAndRspToTheVmcs()
    {
        using var m = new NovaVmxMachine();
        for (var i = 0; i < 16; i++) Put(m, 0x50 + 8 * i, 0x1000 + (ulong)i);
        Reply(m, Mtd.GprAcdb | Mtd.GprBsd | Mtd.Rsp | Mtd.GprR8R15);
        var words = VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        var r = m.Regs;
        CollectionAssert.AreEqual(new ulong[] { 0x1000, 0x1001, 0x1002, 0x1003, 0x1005, 0x1006, 0x1007 }, new[] { r.Rax, r.Rcx, r.Rdx, r.Rbx, r.Rbp, r.Rsi, r.Rdi });
        CollectionAssert.AreEqual(new ulong[] { 0x1008, 0x1009, 0x100A, 0x100B, 0x100C, 0x100D, 0x100E, 0x100F }, new[] { r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15 });
        Assert.AreEqual(0x1004UL, m.Read(VmcsField.GuestRsp));
        Assert.AreEqual(1 + 4 + 3 + 1 + 8, words);
        Assert.AreEqual(0xFFu, r.DstPortal, "after a reply the portal is the recall portal");
    }

    [TestMethod]
    public void UnselectedGroupsAreNotWritten()
    {
        using var m = new NovaVmxMachine();
        m.Write(VmcsField.GuestRip, 0x1234);
        Put(m, 0x30, 0x9999);
        Put(m, 0x50, 0x7777);
        Reply(m, Mtd.Rflags);
        Put(m, 0x38, 0x202);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0x1234UL, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(0UL, m.Regs.Rax);
        Assert.AreEqual(0x202UL, m.Read(VmcsField.GuestRflags));
    }

    [TestMethod]
    public void RipAndInstructionLengthGoToRipAndTheEntryInstructionLength()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x30, 0xFFF0);
        Put(m, 0x28, 3);
        Reply(m, Mtd.RipLen);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0xFFF0UL, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(3UL, m.Read(VmcsField.VmEntryInstructionLength));
    }

    [TestMethod]
    public void SegmentsConvertTheirAccessRightsToTheVmcsFormat()
    {
        using var m = new NovaVmxMachine();
        void Seg(int at, ushort sel, ushort ar, uint limit, ulong b) { Put(m, at, sel, 2); Put(m, at + 2, ar, 2); Put(m, at + 4, limit, 4); Put(m, at + 8, b); }
        Seg(0x1A8, 0xF000, 0x9B, 0xFFFF, 0xFFFF_0000);
        Seg(0x1B8, 0, 0x93, 0xFFFF, 0);
        Seg(0x1F8, 0, 0x1000, 0xFFFF, 0);
        Seg(0x208, 0, 0x8B, 0xFFFF, 0);
        Seg(0x1C8, 0x10, 0xC93, 0xFFFFF, 0x1000);
        Seg(0x198, 0x18, 0xA9B, 0xFFFFFFFF, 0);
        Reply(m, Mtd.CsSs | Mtd.Ldtr | Mtd.Tr | Mtd.DsEs);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0xF000UL, m.Read(VmcsField.GuestCsSelector));
        Assert.AreEqual(0x9BUL, m.Read(VmcsField.GuestCsAccessRights));
        Assert.AreEqual(0xFFFF_0000UL, m.Read(VmcsField.GuestCsBase));
        Assert.AreEqual(0xFFFFUL, m.Read(VmcsField.GuestCsLimit));
        Assert.AreEqual(0x10000UL, m.Read(VmcsField.GuestLdtrAccessRights));
        Assert.AreEqual(0x8BUL, m.Read(VmcsField.GuestTrAccessRights));
        Assert.AreEqual(0xC093UL, m.Read(VmcsField.GuestDsAccessRights));
        Assert.AreEqual(0x1000UL, m.Read(VmcsField.GuestDsBase));
        Assert.AreEqual(0xA09BUL, m.Read(VmcsField.GuestEsAccessRights));
        Assert.AreEqual(0xFFFFFFFFUL, m.Read(VmcsField.GuestEsLimit));
    }

    [TestMethod]
    public void DescriptorTablesTakeBaseAndLimitOnly()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x218, 0xFFFF_FFFF, 4);
        Put(m, 0x21C, 0xFFFF, 4);
        Put(m, 0x220, 0x5000);
        Put(m, 0x22C, 0x3FF, 4);
        Put(m, 0x230, 0x6000);
        Reply(m, Mtd.Gdtr | Mtd.Idtr);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0xFFFFUL, m.Read(VmcsField.GuestGdtrLimit));
        Assert.AreEqual(0x5000UL, m.Read(VmcsField.GuestGdtrBase));
        Assert.AreEqual(0x3FFUL, m.Read(VmcsField.GuestIdtrLimit));
        Assert.AreEqual(0x6000UL, m.Read(VmcsField.GuestIdtrBase));
    }

    [TestMethod]
    public void ControlRegistersKeepTheHostOwnedBitsAndShadowTheRest()
    {
        using var m = new NovaVmxMachine();
        // The startup state of Genode's VMM: CR0 = ET only (real mode), CR4 = 0.
        Put(m, 0xE8, 0x10);
        Put(m, 0xF0, 0xCAFE);
        Put(m, 0xF8, 0x4000);
        Put(m, 0x100, 0);
        Reply(m, Mtd.Cr);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(Cr0.ET | Cr0.NE, m.Read(VmcsField.GuestCr0), "NE is fixed to 1 (IA32_VMX_CR0_FIXED0); PE and PG are not under unrestricted guest");
        Assert.AreEqual(0x10UL, m.Read(VmcsField.Cr0ReadShadow));
        Assert.AreEqual(0x10UL, m.Regs.Cr0Shadow);
        Assert.AreEqual(0xCAFEUL, m.Regs.Cr2, "CR2 has no VMCS field: it stays in the frame");
        Assert.AreEqual(0x4000UL, m.Read(VmcsField.GuestCr3));
        Assert.AreEqual(Cr4.VMXE, m.Read(VmcsField.GuestCr4));
        Assert.AreEqual(0UL, m.Read(VmcsField.Cr4ReadShadow));
        Assert.AreEqual(0x10UL, VmxStateTransfer.GetCr0(m.Vmx, m.Regs), "the guest reads back what it wrote");
        var mask = m.Read(VmcsField.Cr0GuestHostMask);
        Assert.AreEqual(Cr0.NE | Cr0.CD | Cr0.NW | 0xFFFF_FFFF_0000_0000UL, mask);
        Assert.AreEqual(Cr4.VMXE | ~Cr4.Supported, m.Read(VmcsField.Cr4GuestHostMask));
    }

    [TestMethod]
    public void TurningPagingOnWithLmeSetsLmaAndTheIa32eEntryControl()
    {
        using var m = new NovaVmxMachine();
        m.Write(VmcsField.GuestIa32Efer, Efer.LME);
        Put(m, 0xE8, Cr0.PE | Cr0.PG | Cr0.ET | Cr0.NE);
        Put(m, 0x100, Cr4.PAE);
        Reply(m, Mtd.Cr);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(Efer.LME | Efer.LMA, m.Read(VmcsField.GuestIa32Efer));
        Assert.AreNotEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.Ia32eModeGuest);
        Put(m, 0xE8, Cr0.PE | Cr0.ET | Cr0.NE);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(Efer.LME, m.Read(VmcsField.GuestIa32Efer));
        Assert.AreEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.Ia32eModeGuest);
    }

    [TestMethod]
    public void EferFollowsLmaIntoTheEntryControls()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x140, Efer.LME | Efer.LMA);
        Reply(m, Mtd.Efer);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(Efer.LME | Efer.LMA, m.Read(VmcsField.GuestIa32Efer));
        Assert.AreNotEqual(0UL, m.Read(VmcsField.VmEntryControls) & VmEntryControls.Ia32eModeGuest);
    }

    [TestMethod]
    public void ControlsGetTheBitsNovaForces()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0xE0, ProcessorBasedControls.UseTscOffsetting | ProcessorBasedControls.InvlpgExiting | ProcessorBasedControls.Cr3LoadExiting, 4);
        Put(m, 0xE4, SecondaryProcessorBasedControls.EnableRdtscp, 4);
        Reply(m, Mtd.Ctrl);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        var primary = m.Read(VmcsField.PrimaryProcessorBasedVmExecutionControls);
        Assert.AreNotEqual(0UL, primary & ProcessorBasedControls.UseTscOffsetting);
        Assert.AreEqual(0UL, primary & (ProcessorBasedControls.InvlpgExiting | ProcessorBasedControls.Cr3LoadExiting), "nested paging: no INVLPG or CR3 exits");
        foreach (var forced in new[] { ProcessorBasedControls.HltExiting, ProcessorBasedControls.UnconditionalIoExiting, ProcessorBasedControls.UseIoBitmaps,
                     ProcessorBasedControls.UseMsrBitmaps, ProcessorBasedControls.ActivateSecondaryControls })
            Assert.AreNotEqual(0UL, primary & forced);
        var secondary = m.Read(VmcsField.SecondaryProcessorBasedVmExecutionControls);
        Assert.AreEqual((ulong)(SecondaryProcessorBasedControls.EnableRdtscp | SecondaryProcessorBasedControls.EnableEpt
            | SecondaryProcessorBasedControls.EnableVpid | SecondaryProcessorBasedControls.UnrestrictedGuest), secondary);
    }

    [TestMethod]
    public void InjectionBitsToggleTheWindowsAndAreStripped()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x48, 0x3000 | 0x8000_0020, 4);
        Put(m, 0x4C, 0, 4);
        Reply(m, Mtd.Inj);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        var primary = m.Read(VmcsField.PrimaryProcessorBasedVmExecutionControls);
        Assert.AreNotEqual(0UL, primary & ProcessorBasedControls.InterruptWindowExiting);
        Assert.AreNotEqual(0UL, primary & ProcessorBasedControls.NmiWindowExiting);
        Assert.AreEqual(0x8000_0020UL, m.Read(VmcsField.VmEntryInterruptionInformation));
        Put(m, 0x48, 0x1000, 4);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        primary = m.Read(VmcsField.PrimaryProcessorBasedVmExecutionControls);
        Assert.AreNotEqual(0UL, primary & ProcessorBasedControls.InterruptWindowExiting);
        Assert.AreEqual(0UL, primary & ProcessorBasedControls.NmiWindowExiting);
        Assert.AreEqual(0UL, m.Read(VmcsField.VmEntryInterruptionInformation));
        Put(m, 0x48, 0, 4);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0UL, m.Read(VmcsField.PrimaryProcessorBasedVmExecutionControls) & ProcessorBasedControls.InterruptWindowExiting);
    }

    [TestMethod]
    public void TscOffsetIsRelative()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x240, 1000);
        Reply(m, Mtd.Tsc);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Put(m, 0x240, unchecked((ulong)-300));
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(700UL, m.Regs.TscOffset);
        Assert.AreEqual(700UL, m.Read(VmcsField.TscOffset));
    }

    [TestMethod]
    public void StateSysenterDebugPdpteTprSyscallAuxAndXsave()
    {
        using var m = new NovaVmxMachine();
        Put(m, 0x40, 2, 4); Put(m, 0x44, 1, 4);
        Put(m, 0x178, 0x400);
        Put(m, 0x180, 0x10); Put(m, 0x188, 0x8000); Put(m, 0x190, 0x9000);
        for (var i = 0; i < 4; i++) Put(m, 0x118 + 8 * i, 0x11 + (ulong)i);
        Put(m, 0x170, 0x20, 4); Put(m, 0x174, 2, 4);
        for (var i = 0; i < 5; i++) Put(m, 0x148 + 8 * i, 0x900 + (ulong)i);
        Put(m, 0x248, 5);
        Put(m, 0x108, 0xFF); Put(m, 0x110, 0xFF);
        Reply(m, Mtd.Sta | Mtd.Dr | Mtd.Sysenter | Mtd.Pdpte | Mtd.Tpr | Mtd.SyscallSwapgs | Mtd.TscAux | Mtd.Xsave);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(2UL, m.Read(VmcsField.GuestInterruptibilityState));
        Assert.AreEqual(1UL, m.Read(VmcsField.GuestActivityState));
        Assert.AreEqual(0x400UL, m.Read(VmcsField.GuestDr7));
        Assert.AreEqual(0x10UL, m.Read(VmcsField.GuestIa32SysenterCs));
        Assert.AreEqual(0x8000UL, m.Read(VmcsField.GuestIa32SysenterEsp));
        Assert.AreEqual(0x9000UL, m.Read(VmcsField.GuestIa32SysenterEip));
        Assert.AreEqual(0x14UL, m.Read(VmcsField.GuestPdpte3));
        Assert.AreEqual(0x20UL, m.Memory.Read(NovaVmxMachine.Pages.VirtualApic + 0x80, 4));
        Assert.AreEqual(2UL, m.Read(VmcsField.TprThreshold));
        var area = NovaVmxMachine.Pages.GuestMsrArea;
        Assert.AreEqual(0xC000_0081UL, m.Memory.Read(area, 4), "STAR heads NOVA's Msr_area");
        for (var i = 0; i < 5; i++) Assert.AreEqual(0x900 + (ulong)i, m.Memory.Read(area + 16 * (ulong)i + 8, 8));
        Assert.AreEqual(5UL, m.Regs.TscAux);
        Assert.AreEqual(7UL, m.Regs.Xcr0, "XCR0 constrained to what the processor supports");
        Assert.AreEqual(0UL, m.Regs.Xss);
    }

    [TestMethod]
    public void FpuImageGoesBackToTheFrame()
    {
        using var m = new NovaVmxMachine();
        for (var i = 0; i < 832; i += 8) Put(m, 0x258 + i, 0x0101_0101_0101_0101UL * (ulong)(i / 8 % 200));
        Reply(m, Mtd.Fpu);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(0x0505_0505_0505_0505UL, BitConverter.ToUInt64(m.Regs.FpuImage, 40));
    }
}
