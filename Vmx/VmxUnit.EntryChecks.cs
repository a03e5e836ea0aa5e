using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Vmx.Ept;

namespace Sim.Vmx;

/// <summary>The checks of VM entry (SDM vol. 3, 27.2 and 27.3.1); each returns false at the first violated rule.</summary>
public sealed partial class VmxUnit
{
    private static bool Allowed(uint value, uint default1, uint allowed1) => (value & default1) == default1 && (value & ~allowed1) == 0;

    private static bool PhysicalOk(ulong address, ulong alignment) => (address & (alignment - 1)) == 0 && IsValidPhysicalAddress(address);

    /// <summary>Checks on VMX controls (27.2.1): a failure is VMfailValid(7).</summary>
    private bool CheckControls(Vmcs v)
    {
        var pin = (uint)v[VmcsField.PinBasedVmExecutionControls];
        var proc = (uint)v[VmcsField.PrimaryProcessorBasedVmExecutionControls];
        var proc2 = (proc & ProcessorBasedControls.ActivateSecondaryControls) != 0 ? (uint)v[VmcsField.SecondaryProcessorBasedVmExecutionControls] : 0;
        var exit = (uint)v[VmcsField.VmExitControls];
        var entry = (uint)v[VmcsField.VmEntryControls];
        if (!Allowed(pin, PinBasedControls.Default1, PinBasedControls.Allowed1)) return false;
        if (!Allowed(proc, ProcessorBasedControls.TrueDefault1, ProcessorBasedControls.Allowed1)) return false;
        if (!Allowed(proc2, 0, SecondaryProcessorBasedControls.Allowed1)) return false;
        if (v[VmcsField.Cr3TargetCount] > VmxCapability.Cr3TargetValues) return false;
        if ((proc & ProcessorBasedControls.UseIoBitmaps) != 0
            && (!PhysicalOk(v[VmcsField.IoBitmapA], 4096) || !PhysicalOk(v[VmcsField.IoBitmapB], 4096))) return false;
        if ((proc & ProcessorBasedControls.UseMsrBitmaps) != 0 && !PhysicalOk(v[VmcsField.MsrBitmap], 4096)) return false;
        if ((proc & ProcessorBasedControls.UseTprShadow) != 0)
        {
            var apic = v[VmcsField.VirtualApicAddress];
            if (!PhysicalOk(apic, 4096)) return false;
            var threshold = v[VmcsField.TprThreshold];
            if ((threshold & ~0xFUL) != 0) return false;
            if (threshold > (_memory.Read(apic + 0x80, 1) >> 4)) return false;
        }
        if ((pin & PinBasedControls.NmiExiting) == 0 && (pin & PinBasedControls.VirtualNmis) != 0) return false;
        if ((pin & PinBasedControls.VirtualNmis) == 0 && (proc & ProcessorBasedControls.NmiWindowExiting) != 0) return false;
        if ((proc2 & SecondaryProcessorBasedControls.EnableEpt) != 0 && !EptTranslator.IsValidEptp(v[VmcsField.EptPointer])) return false;
        if ((proc2 & SecondaryProcessorBasedControls.EnableVpid) != 0 && v[VmcsField.VirtualProcessorIdentifier] == 0) return false;
        if ((proc2 & SecondaryProcessorBasedControls.UnrestrictedGuest) != 0 && (proc2 & SecondaryProcessorBasedControls.EnableEpt) == 0) return false;

        // VM-exit controls (27.2.1.2).
        if (!Allowed(exit, VmExitControls.TrueDefault1, VmExitControls.Allowed1)) return false;
        if ((pin & PinBasedControls.ActivateVmxPreemptionTimer) == 0 && (exit & VmExitControls.SaveVmxPreemptionTimerValue) != 0) return false;
        // Lists longer than the 512 entries IA32_VMX_MISC recommends are undefined (A.6); this processor refuses them.
        if (v[VmcsField.VmExitMsrStoreCount] > MaxMsrListEntries || v[VmcsField.VmExitMsrLoadCount] > MaxMsrListEntries
            || v[VmcsField.VmEntryMsrLoadCount] > MaxMsrListEntries) return false;
        if (!MsrAreaOk(v[VmcsField.VmExitMsrStoreAddress], v[VmcsField.VmExitMsrStoreCount])) return false;
        if (!MsrAreaOk(v[VmcsField.VmExitMsrLoadAddress], v[VmcsField.VmExitMsrLoadCount])) return false;

        // VM-entry controls (27.2.1.3).
        if (!Allowed(entry, VmEntryControls.TrueDefault1, VmEntryControls.Allowed1)) return false;
        if (!MsrAreaOk(v[VmcsField.VmEntryMsrLoadAddress], v[VmcsField.VmEntryMsrLoadCount])) return false;
        return CheckEventInjection(v, proc2);
    }

    private const ulong MaxMsrListEntries = 512;

    /// <summary>The processor's linear-address width, CPUID.80000008H:EAX[15:8]: 4-level paging.</summary>
    private const int LinearAddressBits = 48;

    private static bool MsrAreaOk(ulong address, ulong count) =>
        count == 0 || ((address & 0xF) == 0 && IsValidPhysicalAddress(address) && IsValidPhysicalAddress(address + count * 16 - 1));

    /// <summary>The VM-entry interruption-information field and its error code and length (27.2.1.3).</summary>
    private static bool CheckEventInjection(Vmcs v, uint proc2)
    {
        var info = (uint)v[VmcsField.VmEntryInterruptionInformation];
        if ((info & 0x80000000) == 0) return true;
        var vector = info & 0xFF;
        var type = (info >> 8) & 7;
        var deliverError = (info & 0x800) != 0;
        if ((info & 0x7FFFF000) != 0) return false;
        switch (type)
        {
            case 1: return false;
            // Other event: offered with the monitor trap flag; vector 0 is a pending MTF VM exit.
            case 7 when vector != 0: return false;
            case 2 when vector != 2: return false;
            case 3 when vector > 31: return false;
        }
        var unrestrictedRealMode = (proc2 & SecondaryProcessorBasedControls.UnrestrictedGuest) != 0 && (v[VmcsField.GuestCr0] & Cr0.PE) == 0;
        var errorExpected = type == 3 && !unrestrictedRealMode && vector is 8 or 10 or 11 or 12 or 13 or 14 or 17 or 21;
        if (deliverError != errorExpected) return false;
        if (deliverError && (v[VmcsField.VmEntryExceptionErrorCode] & 0xFFFF0000) != 0) return false;
        if (type is 4 or 5 or 6)
        {
            var length = v[VmcsField.VmEntryInstructionLength];
            if (length is 0 or > 15) return false;
        }
        return true;
    }

    /// <summary>Checks on the host-state area (27.2.2, 27.2.3): a failure is VMfailValid(8).</summary>
    private bool CheckHostState(Vmcs v)
    {
        var exit = (uint)v[VmcsField.VmExitControls];
        var entry = (uint)v[VmcsField.VmEntryControls];
        var cr0 = v[VmcsField.HostCr0];
        var cr4 = v[VmcsField.HostCr4];
        if (!VmxCapability.Cr0Allowed(cr0) || !VmxCapability.Cr4Allowed(cr4)) return false;
        if (!IsValidPhysicalAddress(v[VmcsField.HostCr3])) return false;
        if (!Processor.IsCanonical(v[VmcsField.HostIa32SysenterEsp]) || !Processor.IsCanonical(v[VmcsField.HostIa32SysenterEip])) return false;
        var hostLong = (exit & VmExitControls.HostAddressSpaceSize) != 0;
        if ((exit & VmExitControls.LoadIa32Pat) != 0 && !ValidPat(v[VmcsField.HostIa32Pat])) return false;
        if ((exit & VmExitControls.LoadIa32Efer) != 0)
        {
            var efer = v[VmcsField.HostIa32Efer];
            if ((efer & ~(Efer.SCE | Efer.LME | Efer.LMA | Efer.NXE)) != 0) return false;
            if (((efer & Efer.LMA) != 0) != hostLong || ((efer & Efer.LME) != 0) != hostLong) return false;
        }
        foreach (var f in HostSelectors)
            if ((v[f] & 7) != 0) return false;
        if (v[VmcsField.HostCsSelector] == 0 || v[VmcsField.HostTrSelector] == 0) return false;
        if (!hostLong && v[VmcsField.HostSsSelector] == 0) return false;
        if (!Processor.IsCanonical(v[VmcsField.HostFsBase]) || !Processor.IsCanonical(v[VmcsField.HostGsBase]) || !Processor.IsCanonical(v[VmcsField.HostGdtrBase])
            || !Processor.IsCanonical(v[VmcsField.HostIdtrBase]) || !Processor.IsCanonical(v[VmcsField.HostTrBase])) return false;
        // Address-space size (27.2.3): the processor must be in IA-32e mode to return to a 64-bit host, and only then.
        if (_cpu.InLongMode != hostLong) return false;
        if (!hostLong)
        {
            if ((entry & VmEntryControls.Ia32eModeGuest) != 0 || (cr4 & Cr4.PCIDE) != 0 || (v[VmcsField.HostRip] >> 32) != 0) return false;
        }
        else if ((cr4 & Cr4.PAE) == 0 || !Processor.IsCanonical(v[VmcsField.HostRip])) return false;
        return true;
    }

    private static readonly VmcsField[] HostSelectors =
    [
        VmcsField.HostEsSelector, VmcsField.HostCsSelector, VmcsField.HostSsSelector, VmcsField.HostDsSelector,
        VmcsField.HostFsSelector, VmcsField.HostGsSelector, VmcsField.HostTrSelector,
    ];

    private static bool ValidPat(ulong pat)
    {
        for (var i = 0; i < 8; i++)
            if (((pat >> (8 * i)) & 0xFF) is not (0 or 1 or 4 or 5 or 6 or 7)) return false;
        return true;
    }

    private static readonly VmcsField[] GuestSelectorFields =
    [
        VmcsField.GuestEsSelector, VmcsField.GuestCsSelector, VmcsField.GuestSsSelector,
        VmcsField.GuestDsSelector, VmcsField.GuestFsSelector, VmcsField.GuestGsSelector,
    ];

    private static VmcsField BaseOf(int seg) => (VmcsField)((uint)VmcsField.GuestEsBase + (uint)seg * 2);
    private static VmcsField LimitOf(int seg) => (VmcsField)((uint)VmcsField.GuestEsLimit + (uint)seg * 2);
    private static VmcsField AccessRightsOf(int seg) => (VmcsField)((uint)VmcsField.GuestEsAccessRights + (uint)seg * 2);

    /// <summary>The granularity rule of 27.3.1.2 for a usable segment's limit and G bit.</summary>
    private static bool GranularityOk(ulong limit, ulong ar) =>
        ((limit & 0xFFF) == 0xFFF || (ar & 0x8000) == 0) && ((limit & 0xFFF00000) == 0 || (ar & 0x8000) != 0);

    /// <summary>Checks on the guest-state area (27.3.1): a failure is a VM-entry failure with reason 33; <paramref name="qualification"/> is 0, 2 (PDPTEs), 3 (NMI under STI blocking) or 4 (link pointer).</summary>
    private bool CheckGuestState(Vmcs v, out ulong qualification)
    {
        qualification = 0;
        var proc = (uint)v[VmcsField.PrimaryProcessorBasedVmExecutionControls];
        var proc2 = (proc & ProcessorBasedControls.ActivateSecondaryControls) != 0 ? (uint)v[VmcsField.SecondaryProcessorBasedVmExecutionControls] : 0;
        var pin = (uint)v[VmcsField.PinBasedVmExecutionControls];
        var entry = (uint)v[VmcsField.VmEntryControls];
        var unrestricted = (proc2 & SecondaryProcessorBasedControls.UnrestrictedGuest) != 0;
        var ia32e = (entry & VmEntryControls.Ia32eModeGuest) != 0;
        var cr0 = v[VmcsField.GuestCr0];
        var cr4 = v[VmcsField.GuestCr4];

        // Control registers, debug registers and MSRs (27.3.1.1).
        var fixed0 = unrestricted ? VmxCapability.Cr0Fixed0 & ~(Cr0.PE | Cr0.PG) : VmxCapability.Cr0Fixed0;
        if (!VmxCapability.Cr0Allowed(cr0, fixed0)) return false;
        if ((cr0 & Cr0.PG) != 0 && (cr0 & Cr0.PE) == 0) return false;
        if (!VmxCapability.Cr4Allowed(cr4)) return false;
        if ((entry & VmEntryControls.LoadDebugControls) != 0)
        {
            if ((v[VmcsField.GuestIa32Debugctl] & ~0xFFC3UL) != 0) return false;
            if ((v[VmcsField.GuestDr7] >> 32) != 0) return false;
        }
        if (ia32e && ((cr0 & Cr0.PG) == 0 || (cr4 & Cr4.PAE) == 0)) return false;
        if (!ia32e && (cr4 & Cr4.PCIDE) != 0) return false;
        if (!IsValidPhysicalAddress(v[VmcsField.GuestCr3])) return false;
        if (!Processor.IsCanonical(v[VmcsField.GuestIa32SysenterEsp]) || !Processor.IsCanonical(v[VmcsField.GuestIa32SysenterEip])) return false;
        if ((entry & VmEntryControls.LoadIa32Pat) != 0 && !ValidPat(v[VmcsField.GuestIa32Pat])) return false;
        if ((entry & VmEntryControls.LoadIa32Efer) != 0)
        {
            var efer = v[VmcsField.GuestIa32Efer];
            if ((efer & ~(Efer.SCE | Efer.LME | Efer.LMA | Efer.NXE)) != 0) return false;
            if (((efer & Efer.LMA) != 0) != ia32e) return false;
            if ((cr0 & Cr0.PG) != 0 && ((efer & Efer.LME) != 0) != ia32e) return false;
        }

        // Segment registers (27.3.1.2).
        var rflags = v[VmcsField.GuestRflags];
        var v86 = (rflags & Rflags.VM) != 0;
        var tr = v[VmcsField.GuestTrSelector];
        if ((tr & 4) != 0) return false;
        var ldtrAr = v[VmcsField.GuestLdtrAccessRights];
        var ldtrUsable = (ldtrAr & SegmentRegister.UnusableBit) == 0;
        if (ldtrUsable && (v[VmcsField.GuestLdtrSelector] & 4) != 0) return false;
        var csSel = v[VmcsField.GuestCsSelector];
        var ssSel = v[VmcsField.GuestSsSelector];
        if (!v86 && !unrestricted && (ssSel & 3) != (csSel & 3)) return false;
        for (var s = 0; s < 6; s++)
        {
            var sel = v[GuestSelectorFields[s]];
            var b = v[BaseOf(s)];
            var limit = v[LimitOf(s)];
            var ar = v[AccessRightsOf(s)];
            var usable = (ar & SegmentRegister.UnusableBit) == 0;
            if (v86)
            {
                if (b != sel << 4 || limit != 0xFFFF || ar != 0xF3) return false;
                continue;
            }
            if (s == 1 && (b >> 32) != 0) return false;
            if (s is 0 or 2 or 3 && usable && (b >> 32) != 0) return false;
            if (!usable && s == 2)
            {
                // SS's DPL rules hold even when it is unusable.
                var ssDplOnly = (ar >> 5) & 3;
                if (!unrestricted && ssDplOnly != (ssSel & 3)) return false;
                if (((v[VmcsField.GuestCsAccessRights] & 0xF) == 3 || (cr0 & Cr0.PE) == 0) && ssDplOnly != 0) return false;
                continue;
            }
            if (!usable && s != 1) continue;
            var type = ar & 0xF;
            var dpl = (ar >> 5) & 3;
            if (s == 1)
            {
                if (!(type is 9 or 11 or 13 or 15 || (unrestricted && type == 3))) return false;
            }
            else if (s == 2)
            {
                if (type is not (3 or 7)) return false;
            }
            else if ((type & 1) == 0 || ((type & 8) != 0 && (type & 2) == 0)) return false;
            if ((ar & 0x10) == 0 || (ar & 0x80) == 0) return false;
            if ((ar & 0xF00) != 0 || (ar & 0xFFFE0000) != 0) return false;
            if (!GranularityOk(limit, ar)) return false;
            var csType = v[VmcsField.GuestCsAccessRights] & 0xF;
            var ssDpl = (v[VmcsField.GuestSsAccessRights] >> 5) & 3;
            if (s == 1)
            {
                if (type == 3 && dpl != 0) return false;
                if (type is 9 or 11 && dpl != ssDpl) return false;
                if (type is 13 or 15 && dpl > ssDpl) return false;
                if (ia32e && (ar & 0x2000) != 0 && (ar & 0x4000) != 0) return false;
            }
            else if (s == 2)
            {
                if (!unrestricted && dpl != (ssSel & 3)) return false;
                if ((csType == 3 || (cr0 & Cr0.PE) == 0) && dpl != 0) return false;
            }
            else if (!unrestricted && type <= 11 && dpl < (sel & 3)) return false;
        }
        if (!Processor.IsCanonical(v[VmcsField.GuestFsBase]) || !Processor.IsCanonical(v[VmcsField.GuestGsBase]) || !Processor.IsCanonical(v[VmcsField.GuestTrBase])) return false;
        if (ldtrUsable && !Processor.IsCanonical(v[VmcsField.GuestLdtrBase])) return false;
        var trAr = v[VmcsField.GuestTrAccessRights];
        var trType = trAr & 0xF;
        if (!(trType == 11 || (!ia32e && trType == 3))) return false;
        if ((trAr & 0x10) != 0 || (trAr & 0x80) == 0 || (trAr & 0xF00) != 0 || (trAr & 0xFFFE0000) != 0 || (trAr & SegmentRegister.UnusableBit) != 0) return false;
        if (!GranularityOk(v[VmcsField.GuestTrLimit], trAr)) return false;
        if (ldtrUsable)
        {
            if ((ldtrAr & 0xF) != 2 || (ldtrAr & 0x10) != 0 || (ldtrAr & 0x80) == 0 || (ldtrAr & 0xF00) != 0 || (ldtrAr & 0xFFFE0000) != 0) return false;
            if (!GranularityOk(v[VmcsField.GuestLdtrLimit], ldtrAr)) return false;
        }

        // Descriptor-table registers (27.3.1.3).
        if (!Processor.IsCanonical(v[VmcsField.GuestGdtrBase]) || !Processor.IsCanonical(v[VmcsField.GuestIdtrBase])) return false;
        if ((v[VmcsField.GuestGdtrLimit] >> 16) != 0 || (v[VmcsField.GuestIdtrLimit] >> 16) != 0) return false;

        // RIP and RFLAGS (27.3.1.4).
        var rip = v[VmcsField.GuestRip];
        var csLong = (v[VmcsField.GuestCsAccessRights] & 0x2000) != 0;
        if ((!ia32e || !csLong) && (rip >> 32) != 0) return false;
        // Only bits 63:N (N = 48 linear-address bits) must be identical: "the guest RIP value is not required to be canonical;
        // the value of bit N-1 may differ from that of bit 63" (26.3.1.4). A non-canonical RIP faults on the first fetch instead.
        if (ia32e && csLong && (rip >> LinearAddressBits) is not (0 or (1UL << (64 - LinearAddressBits)) - 1)) return false;
        if ((rflags & ~0x3F7FD7UL) != 0 || (rflags & Rflags.Reserved1) == 0) return false;
        if (v86 && (ia32e || (cr0 & Cr0.PE) == 0)) return false;
        var injection = (uint)v[VmcsField.VmEntryInterruptionInformation];
        var injecting = (injection & 0x80000000) != 0;
        var injectType = (injection >> 8) & 7;
        if (injecting && injectType == 0 && (rflags & Rflags.IF) == 0) return false;

        // Non-register state (27.3.1.5).
        var activity = v[VmcsField.GuestActivityState];
        if (activity > 3) return false;
        if (activity == 1 && ((v[VmcsField.GuestSsAccessRights] >> 5) & 3) != 0) return false;
        var interruptibility = v[VmcsField.GuestInterruptibilityState];
        var sti = (interruptibility & 1) != 0;
        var movSs = (interruptibility & 2) != 0;
        if ((interruptibility & ~0xFUL) != 0) return false;
        if (sti && movSs) return false;
        if (sti && (rflags & Rflags.IF) == 0) return false;
        if ((interruptibility & 4) != 0) return false;
        if (activity != 0 && (sti || movSs)) return false;
        if (injecting)
        {
            if (activity == 3) return false;
            if (activity == 2 && !(injectType == 2 || (injectType == 3 && (injection & 0xFF) == 18))) return false;
            if (injectType == 0 && (sti || movSs)) return false;
            if (injectType == 2)
            {
                if (movSs) return false;
                if (sti)
                {
                    qualification = 3;
                    return false;
                }
                if ((pin & PinBasedControls.VirtualNmis) != 0 && (interruptibility & 8) != 0) return false;
            }
        }
        var pending = v[VmcsField.GuestPendingDebugExceptions];
        if ((pending & ~0x500FUL) != 0) return false;
        if (sti || movSs || activity == 1)
        {
            var bs = (pending & (1UL << 14)) != 0;
            var tf = (rflags & Rflags.TF) != 0;
            var btf = (v[VmcsField.GuestIa32Debugctl] & 2) != 0;
            if (tf && !btf && !bs) return false;
            if ((!tf || btf) && bs) return false;
        }
        var link = v[VmcsField.VmcsLinkPointer];
        if (link != ulong.MaxValue)
        {
            // Outside SMM the link pointer must also differ from the current-VMCS pointer (27.3.1.5).
            if ((link & 0xFFF) != 0 || !IsValidPhysicalAddress(link) || _memory.Read(link, 4) != VmxCapability.VmcsRevisionId || link == v.Address)
            {
                qualification = 4;
                return false;
            }
        }

        // PDPTEs from the VMCS with EPT (27.3.1.6); without EPT they are checked when loaded.
        if ((proc2 & SecondaryProcessorBasedControls.EnableEpt) != 0 && PaePaging(cr0, cr4, ia32e))
        {
            for (var i = 0; i < 4; i++)
                if (!Processor.IsLegalPdpte(v[(VmcsField)((uint)VmcsField.GuestPdpte0 + (uint)i * 2)]))
                {
                    qualification = 2;
                    return false;
                }
        }
        return true;
    }

    private static bool PaePaging(ulong cr0, ulong cr4, bool ia32e) => (cr0 & Cr0.PG) != 0 && (cr4 & Cr4.PAE) != 0 && !ia32e;
}
