using Sim.Cpu.Virtualization;
using Sim.Cpu;
using Sim.Cpu.Registers;

namespace Sim.Vmx;

/// <summary>VM exits (SDM vol. 3, chapter 28): exit information, guest-state save, MSR lists, host-state load.</summary>
public sealed partial class VmxUnit
{
    /// <summary>The VMX-abort indicator for a failure loading host MSRs (28.7).</summary>
    public const uint AbortLoadingHostMsrs = 4;

    /// <summary>The VMX-abort indicator for a failure saving guest MSRs (28.7).</summary>
    public const uint AbortSavingGuestMsrs = 1;

    /// <summary>
    /// A VM exit: records the reason and qualification (the caller has set any other exit field),
    /// the IDT-vectoring information of an event whose delivery was under way, saves the guest
    /// state, stores the MSR list and loads the host state.
    /// </summary>
    private void Exit(VmExitReason reason, ulong qualification)
    {
        var v = _current!;
        v[VmcsField.ExitReason] = (ulong)reason;
        v[VmcsField.ExitQualification] = qualification;
        var delivering = _intercept.EventInDelivery;
        if (delivering.HasValue)
        {
            var e = delivering.Value;
            v[VmcsField.IdtVectoringInformation] = 0x80000000u | (uint)e.Vector | (VmxInterruptionType.Of(e.Type) << 8) | (e.HasErrorCode ? 0x800u : 0);
            v[VmcsField.IdtVectoringErrorCode] = e.ErrorCode;
            if (e.InstructionLength != 0) v[VmcsField.VmExitInstructionLength] = (ulong)e.InstructionLength;
        }
        else v[VmcsField.IdtVectoringInformation] = 0;
        v[VmcsField.VmEntryInterruptionInformation] &= ~0x80000000UL;
        if (_nmiBlockingHeld)
        {
            _nmiBlockingHeld = false;
            _cpu.NmiBlocked = true;
        }
        SaveGuestState(v);
        v[VmcsField.GuestPendingDebugExceptions] = PendingDebugExceptionsAtExit(reason, (uint)v[VmcsField.VmExitInterruptionInformation]);
        InNonRootOperation = false;
        DisarmNonRootEvents();
        if (!StoreMsrList(v[VmcsField.VmExitMsrStoreAddress], v[VmcsField.VmExitMsrStoreCount]))
        {
            Abort(v, AbortSavingGuestMsrs);
            return;
        }
        LoadHostState(v, guestLoaded: true);
    }

    /// <summary>Clears the exit-information fields an exit may leave stale: interruption information, instruction length and information, addresses.</summary>
    private void BeginExit()
    {
        var v = _current!;
        v[VmcsField.VmExitInterruptionInformation] = 0;
        v[VmcsField.VmExitInstructionLength] = 0;
        v[VmcsField.VmExitInstructionInformation] = 0;
        v[VmcsField.GuestLinearAddress] = 0;
        v[VmcsField.GuestPhysicalAddress] = 0;
    }

    /// <summary>A VM-entry failure during or after loading guest state (27.8): reason with bit 31, qualification, host state loaded, nothing saved.</summary>
    private void EntryFailure(VmExitReason reason, ulong qualification)
    {
        var v = _current!;
        var guestLoaded = InNonRootOperation || reason == VmExitReason.EntryFailureMsrLoading;
        v[VmcsField.ExitReason] = 0x80000000UL | (ulong)reason;
        v[VmcsField.ExitQualification] = qualification;
        InNonRootOperation = false;
        DisarmNonRootEvents();
        LoadHostState(v, guestLoaded);
    }

    private void DisarmNonRootEvents()
    {
        _cpu.InterruptFlagIgnored = false;
        _cpu.WatchEventWindows = false;
        _cpu.EventDeadline = ulong.MaxValue;
    }

    /// <summary>Saves the processor state into the guest-state area (28.3).</summary>
    private void SaveGuestState(Vmcs v)
    {
        v[VmcsField.GuestCr0] = _cpu.Cr0;
        v[VmcsField.GuestCr3] = _cpu.Cr3;
        v[VmcsField.GuestCr4] = _cpu.Cr4;
        if (Has(_exitControls, VmExitControls.SaveDebugControls))
        {
            v[VmcsField.GuestDr7] = _cpu.GetDebugRegister(7);
            v[VmcsField.GuestIa32Debugctl] = _cpu.DebugCtl;
        }
        v[VmcsField.GuestRsp] = _cpu.Rsp;
        v[VmcsField.GuestRip] = _cpu.Rip;
        v[VmcsField.GuestRflags] = _cpu.Flags;
        for (var s = 0; s < 6; s++)
        {
            var seg = _cpu.GetSegment((SegmentIndex)s);
            v[GuestSelectorFields[s]] = seg.Selector;
            v[BaseOf(s)] = seg.Base;
            v[LimitOf(s)] = seg.Limit;
            v[AccessRightsOf(s)] = seg.Attributes & 0x1F0FF;
        }
        v[VmcsField.GuestLdtrSelector] = _cpu.Ldtr.Selector;
        v[VmcsField.GuestLdtrBase] = _cpu.Ldtr.Base;
        v[VmcsField.GuestLdtrLimit] = _cpu.Ldtr.Limit;
        v[VmcsField.GuestLdtrAccessRights] = _cpu.Ldtr.Attributes & 0x1F0FF;
        v[VmcsField.GuestTrSelector] = _cpu.Tr.Selector;
        v[VmcsField.GuestTrBase] = _cpu.Tr.Base;
        v[VmcsField.GuestTrLimit] = _cpu.Tr.Limit;
        v[VmcsField.GuestTrAccessRights] = _cpu.Tr.Attributes & 0x1F0FF;
        v[VmcsField.GuestGdtrBase] = _cpu.Gdtr.Base;
        v[VmcsField.GuestGdtrLimit] = _cpu.Gdtr.Limit;
        v[VmcsField.GuestIdtrBase] = _cpu.Idtr.Base;
        v[VmcsField.GuestIdtrLimit] = _cpu.Idtr.Limit;
        v[VmcsField.GuestIa32SysenterCs] = _cpu.SysenterCs;
        v[VmcsField.GuestIa32SysenterEsp] = _cpu.SysenterEsp;
        v[VmcsField.GuestIa32SysenterEip] = _cpu.SysenterEip;
        if (Has(_exitControls, VmExitControls.SaveIa32Pat)) v[VmcsField.GuestIa32Pat] = _cpu.Pat;
        if (Has(_exitControls, VmExitControls.SaveIa32Efer)) v[VmcsField.GuestIa32Efer] = _cpu.Efer;
        v[VmcsField.GuestActivityState] = (ulong)_cpu.Activity;
        var nmiBlocked = Has(_pin, PinBasedControls.VirtualNmis) ? _virtualNmiBlocked : _cpu.NmiBlocked;
        v[VmcsField.GuestInterruptibilityState] = (_cpu.BlockingBySti ? 1UL : 0) | (_cpu.BlockingByMovSs ? 2UL : 0) | (nmiBlocked ? 8UL : 0);
        if (Has(_exitControls, VmExitControls.SaveVmxPreemptionTimerValue))
            v[VmcsField.VmxPreemptionTimerValue] = _cpu.Cycles >= _preemptionDeadline ? 0 : (_preemptionDeadline - _cpu.Cycles) >> VmxCapability.PreemptionTimerRate;
        if (Has(_proc2, SecondaryProcessorBasedControls.EnableEpt) && PaePaging(_cpu.Cr0, _cpu.Cr4, _cpu.InLongMode))
        {
            v[VmcsField.GuestPdpte0] = _cpu.GetPdpte(0);
            v[VmcsField.GuestPdpte1] = _cpu.GetPdpte(1);
            v[VmcsField.GuestPdpte2] = _cpu.GetPdpte(2);
            v[VmcsField.GuestPdpte3] = _cpu.GetPdpte(3);
        }
        // IA32_VMX_MISC bit 5: "IA-32e mode guest" records EFER.LMA.
        var entry = v[VmcsField.VmEntryControls] & ~(ulong)VmEntryControls.Ia32eModeGuest;
        v[VmcsField.VmEntryControls] = entry | (_cpu.InLongMode ? VmEntryControls.Ia32eModeGuest : 0);
    }

    /// <summary>Loads the host-state area (28.5), then the VM-exit MSR-load list (28.6), and reports the exit.</summary>
    private void LoadHostState(Vmcs v, bool guestLoaded)
    {
        var exit = (uint)v[VmcsField.VmExitControls];
        var hostLong = (exit & VmExitControls.HostAddressSpaceSize) != 0;
        if (guestLoaded) _cpu.TscOffset = _hostTscOffset;
        _cpu.SecondLevel = null;
        _cpu.TranslationTag = 0;
        ulong efer;
        if ((exit & VmExitControls.LoadIa32Efer) != 0) efer = v[VmcsField.HostIa32Efer];
        else efer = hostLong ? _cpu.Efer | Efer.LME | Efer.LMA : _cpu.Efer & ~(Efer.LME | Efer.LMA);
        // CR0 keeps ET, CD, NW and its reserved bits (63:32, 28:19, 17, 15:6) across the load (28.5.1).
        const ulong keptCr0 = Cr0.ET | Cr0.CD | Cr0.NW | 0xFFFFFFFF_00000000UL | 0x1FF80000UL | (1UL << 17) | 0xFFC0UL;
        var cr0 = (v[VmcsField.HostCr0] & ~keptCr0) | (_cpu.Cr0 & keptCr0);
        _cpu.LoadControlState(cr0, v[VmcsField.HostCr3], v[VmcsField.HostCr4], efer, flush: !_vpidActive || !guestLoaded);
        _cpu.SetDebugRegister(7, 0x400);
        _cpu.DebugCtl = 0;
        _cpu.SysenterCs = v[VmcsField.HostIa32SysenterCs];
        _cpu.SysenterEsp = v[VmcsField.HostIa32SysenterEsp];
        _cpu.SysenterEip = v[VmcsField.HostIa32SysenterEip];
        if ((exit & VmExitControls.LoadIa32Pat) != 0) _cpu.Pat = v[VmcsField.HostIa32Pat];

        _cpu.SetSegment(SegmentIndex.CS, new SegmentRegister
        {
            Selector = (ushort)v[VmcsField.HostCsSelector], Base = 0, Limit = 0xFFFFFFFF,
            Attributes = 0x809B | (hostLong ? 0x2000u : 0x4000u),
        });
        HostDataSegment(SegmentIndex.SS, v[VmcsField.HostSsSelector], 0);
        HostDataSegment(SegmentIndex.DS, v[VmcsField.HostDsSelector], 0);
        HostDataSegment(SegmentIndex.ES, v[VmcsField.HostEsSelector], 0);
        HostDataSegment(SegmentIndex.FS, v[VmcsField.HostFsSelector], v[VmcsField.HostFsBase]);
        HostDataSegment(SegmentIndex.GS, v[VmcsField.HostGsSelector], v[VmcsField.HostGsBase]);
        _cpu.Tr = new SegmentRegister { Selector = (ushort)v[VmcsField.HostTrSelector], Base = v[VmcsField.HostTrBase], Limit = 0x67, Attributes = 0x8B };
        _cpu.Ldtr = new SegmentRegister { Selector = 0, Attributes = SegmentRegister.UnusableBit };
        _cpu.Gdtr = new DescriptorTableRegister { Base = v[VmcsField.HostGdtrBase], Limit = 0xFFFF };
        _cpu.Idtr = new DescriptorTableRegister { Base = v[VmcsField.HostIdtrBase], Limit = 0xFFFF };
        _cpu.Flags = Rflags.Reserved1;
        _cpu.Rsp = v[VmcsField.HostRsp];
        _cpu.Rip = v[VmcsField.HostRip];
        _cpu.SetInterruptShadow(false, false);
        _cpu.Activity = ActivityState.Active;
        if (LoadMsrList(v[VmcsField.VmExitMsrLoadAddress], v[VmcsField.VmExitMsrLoadCount]) != 0)
        {
            Abort(v, AbortLoadingHostMsrs);
            return;
        }
        _cpu.AddCycles(Costs.VmxExit);
        ExitCount++;
        LastExit = new VmExitInfo(
            (uint)v[VmcsField.ExitReason], v[VmcsField.ExitQualification], v[VmcsField.GuestLinearAddress], v[VmcsField.GuestPhysicalAddress],
            (uint)v[VmcsField.VmExitInterruptionInformation], (uint)v[VmcsField.VmExitInterruptionErrorCode],
            (uint)v[VmcsField.IdtVectoringInformation], (uint)v[VmcsField.IdtVectoringErrorCode],
            (uint)v[VmcsField.VmExitInstructionLength], (uint)v[VmcsField.VmExitInstructionInformation]);
        _cpu.ReportGuestExit(new GuestExit(GuestExitSource.Vmx, LastExit.ExitReason, LastExit.ExitQualification, LastExit.GuestPhysicalAddress,
            LastExit.InstructionLength));
    }

    /// <summary>SS, DS, ES, FS, GS on exit (28.5.2): unusable with a null selector (SS only on an exit to 64-bit mode), else a flat read/write data segment.</summary>
    private void HostDataSegment(SegmentIndex index, ulong selector, ulong baseAddress)
    {
        var unusable = selector == 0;
        _cpu.SetSegment(index, new SegmentRegister
        {
            Selector = (ushort)selector,
            Base = baseAddress,
            Limit = 0xFFFFFFFF,
            Attributes = unusable ? SegmentRegister.UnusableBit | 0xC093 : 0xC093,
        });
    }

    /// <summary>VMX abort (28.7): the indicator is written into the VMCS region and the processor enters a shutdown-like state.</summary>
    private void Abort(Vmcs v, uint indicator)
    {
        _memory.Write(v.Address + Vmcs.AbortIndicatorOffset, 4, indicator);
        InNonRootOperation = false;
        _cpu.Activity = ActivityState.Shutdown;
        _cpu.RequestStop();
    }
}
