using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Vmx;

/// <summary>VM entry (SDM vol. 3, chapter 27): checks, guest-state load, MSR loading, event injection.</summary>
public sealed partial class VmxUnit
{
    // The controls of the running guest, cached at VM entry.
    private uint _pin, _proc, _proc2, _exitControls, _entryControls, _exceptionBitmap, _pfecMask, _pfecMatch;
    private ulong _cr0Mask, _cr4Mask, _cr0Shadow, _cr4Shadow;
    private bool _virtualNmiBlocked;
    private long _hostTscOffset;
    private ulong _preemptionDeadline = ulong.MaxValue;
    private ulong _entryRetired;
    private bool _vpidActive;
    private bool _pendingMtf;

    private const int NmiVector = 2;

    /// <summary>VMLAUNCH or VMRESUME after the #UD/#GP checks.</summary>
    private VmxResult Enter(bool resume)
    {
        var v = _current;
        if (v == null) return VmxResult.FailInvalid;
        if (_cpu.BlockingByMovSs) return VmFail(VmxInstructionError.VmEntryWithEventsBlockedByMovSs);
        if (!resume && v.Launched) return VmFail(VmxInstructionError.VmlaunchWithNonClearVmcs);
        if (resume && !v.Launched) return VmFail(VmxInstructionError.VmresumeWithNonLaunchedVmcs);
        if (resume && v.LaunchedBeforeVmxoff) return VmFail(VmxInstructionError.VmresumeAfterVmxoff);
        if (!CheckControls(v)) return VmFail(VmxInstructionError.VmEntryWithInvalidControlFields);
        if (!CheckHostState(v)) return VmFail(VmxInstructionError.VmEntryWithInvalidHostStateFields);
        _cpu.AddCycles(Costs.VmxEntry);
        if (!CheckGuestState(v, out var qualification))
        {
            EntryFailure(VmExitReason.EntryFailureGuestState, qualification);
            return VmxResult.EntryFailure;
        }
        CacheControls(v);
        var nmiBlockedBefore = _cpu.NmiBlocked;
        if (!LoadGuestState(v))
        {
            _cpu.NmiBlocked = nmiBlockedBefore;
            EntryFailure(VmExitReason.EntryFailureGuestState, 2);
            return VmxResult.EntryFailure;
        }
        var failedEntry = LoadMsrList(v[VmcsField.VmEntryMsrLoadAddress], v[VmcsField.VmEntryMsrLoadCount]);
        if (failedEntry != 0)
        {
            _cpu.NmiBlocked = nmiBlockedBefore;
            EntryFailure(VmExitReason.EntryFailureMsrLoading, failedEntry);
            return VmxResult.EntryFailure;
        }
        if (!resume) v.Launched = true;
        InNonRootOperation = true;
        ArmNonRootEvents(v);
        var exits = ExitCount;
        InjectEvent(v);
        if (ExitCount == exits) DeliverPendingDebugExceptions(v);
        // Delivering the injected event (or the #DB) may itself have caused a VM exit.
        return ExitCount == exits ? VmxResult.Succeed : VmxResult.VmExit;
    }

    private void CacheControls(Vmcs v)
    {
        _pin = (uint)v[VmcsField.PinBasedVmExecutionControls];
        _proc = (uint)v[VmcsField.PrimaryProcessorBasedVmExecutionControls];
        _proc2 = (_proc & ProcessorBasedControls.ActivateSecondaryControls) != 0 ? (uint)v[VmcsField.SecondaryProcessorBasedVmExecutionControls] : 0;
        _exitControls = (uint)v[VmcsField.VmExitControls];
        _entryControls = (uint)v[VmcsField.VmEntryControls];
        _exceptionBitmap = (uint)v[VmcsField.ExceptionBitmap];
        _pfecMask = (uint)v[VmcsField.PageFaultErrorCodeMask];
        _pfecMatch = (uint)v[VmcsField.PageFaultErrorCodeMatch];
        _cr0Mask = v[VmcsField.Cr0GuestHostMask];
        _cr4Mask = v[VmcsField.Cr4GuestHostMask];
        _cr0Shadow = v[VmcsField.Cr0ReadShadow];
        _cr4Shadow = v[VmcsField.Cr4ReadShadow];
    }

    private bool Has(uint controls, uint bit) => (controls & bit) != 0;

    /// <summary>Loads the guest-state area into the processor (27.3.2); false when the PDPTEs read through CR3 are invalid.</summary>
    private bool LoadGuestState(Vmcs v)
    {
        // ET, NW, CD and the reserved bits 15:6, 17, 28:19 are never modified by VM entry (27.3.2.1).
        const ulong keptCr0 = Cr0.ET | Cr0.CD | Cr0.NW | 0x1FF80000UL | (1UL << 17) | 0xFFC0UL;
        var cr0 = (v[VmcsField.GuestCr0] & ~keptCr0) | (_cpu.Cr0 & keptCr0);
        var cr3 = v[VmcsField.GuestCr3];
        var cr4 = v[VmcsField.GuestCr4];
        var ia32e = Has(_entryControls, VmEntryControls.Ia32eModeGuest);
        var ept = Has(_proc2, SecondaryProcessorBasedControls.EnableEpt);
        if (!ept && PaePaging(cr0, cr4, ia32e))
        {
            var table = cr3 & 0xFFFFFFE0;
            for (var i = 0; i < 4; i++)
                if (!Processor.IsLegalPdpte(_memory.Read(table + (ulong)i * 8, 8))) return false;
        }
        ulong efer;
        if (Has(_entryControls, VmEntryControls.LoadIa32Efer)) efer = v[VmcsField.GuestIa32Efer];
        else
        {
            // LMA follows "IA-32e mode guest"; LME too, but only when CR0.PG is being set (27.3.2.1).
            var mode = (cr0 & Cr0.PG) != 0 ? Efer.LME | Efer.LMA : Efer.LMA;
            efer = ia32e ? _cpu.Efer | mode : _cpu.Efer & ~mode;
        }

        _hostTscOffset = _cpu.TscOffset;
        if (Has(_proc, ProcessorBasedControls.UseTscOffsetting)) _cpu.TscOffset += (long)v[VmcsField.TscOffset];

        // EPT first, so that the control-state load reads nothing through host-physical addresses.
        _vpidActive = Has(_proc2, SecondaryProcessorBasedControls.EnableVpid);
        if (ept)
        {
            _ept.Eptp = v[VmcsField.EptPointer];
            _cpu.SecondLevel = _ept;
        }
        var vpid = _vpidActive ? v[VmcsField.VirtualProcessorIdentifier] : 0;
        _cpu.TranslationTag = _tags.TagFor(vpid, ept ? v[VmcsField.EptPointer] & ~0xFFFUL : 0);
        _cpu.LoadControlState(cr0, cr3, cr4, efer, flush: !_vpidActive);
        if (ept && PaePaging(cr0, cr4, ia32e))
            _cpu.LoadPdptes(v[VmcsField.GuestPdpte0], v[VmcsField.GuestPdpte1], v[VmcsField.GuestPdpte2], v[VmcsField.GuestPdpte3]);

        // DR7 bits 12 and 15:14 are loaded as 0 and bit 10 as 1 (27.3.2.1).
        if (Has(_entryControls, VmEntryControls.LoadDebugControls))
        {
            _cpu.SetDebugRegister(7, (v[VmcsField.GuestDr7] & ~0xD000UL) | 0x400);
            // The processor keeps only the IA32_DEBUGCTL bits it implements (LBR, BTF).
            _cpu.DebugCtl = v[VmcsField.GuestIa32Debugctl] & Processor.DebugCtlWritable;
        }
        _cpu.SysenterCs = v[VmcsField.GuestIa32SysenterCs];
        _cpu.SysenterEsp = v[VmcsField.GuestIa32SysenterEsp];
        _cpu.SysenterEip = v[VmcsField.GuestIa32SysenterEip];
        if (Has(_entryControls, VmEntryControls.LoadIa32Pat)) _cpu.Pat = v[VmcsField.GuestIa32Pat];

        _cpu.Flags = v[VmcsField.GuestRflags];
        for (var s = 0; s < 6; s++)
        {
            _cpu.SetSegment((SegmentIndex)s, new SegmentRegister
            {
                Selector = (ushort)v[GuestSelectorFields[s]],
                Base = v[BaseOf(s)],
                Limit = (uint)v[LimitOf(s)],
                Attributes = (uint)v[AccessRightsOf(s)],
            });
        }
        _cpu.Ldtr = new SegmentRegister
        {
            Selector = (ushort)v[VmcsField.GuestLdtrSelector], Base = v[VmcsField.GuestLdtrBase],
            Limit = (uint)v[VmcsField.GuestLdtrLimit], Attributes = (uint)v[VmcsField.GuestLdtrAccessRights],
        };
        _cpu.Tr = new SegmentRegister
        {
            Selector = (ushort)v[VmcsField.GuestTrSelector], Base = v[VmcsField.GuestTrBase],
            Limit = (uint)v[VmcsField.GuestTrLimit], Attributes = (uint)v[VmcsField.GuestTrAccessRights],
        };
        _cpu.Gdtr = new DescriptorTableRegister { Base = v[VmcsField.GuestGdtrBase], Limit = (ushort)v[VmcsField.GuestGdtrLimit] };
        _cpu.Idtr = new DescriptorTableRegister { Base = v[VmcsField.GuestIdtrBase], Limit = (ushort)v[VmcsField.GuestIdtrLimit] };
        _cpu.Rsp = v[VmcsField.GuestRsp];
        _cpu.Rip = v[VmcsField.GuestRip];

        var interruptibility = v[VmcsField.GuestInterruptibilityState];
        // A vectoring entry leaves no blocking by STI or MOV SS (27.7.1).
        var injection = v[VmcsField.VmEntryInterruptionInformation];
        if ((injection & 0x80000000) != 0 && ((injection >> 8) & 7) != 7) interruptibility &= ~3UL;
        _cpu.SetInterruptShadow((interruptibility & 1) != 0, (interruptibility & 2) != 0);
        if (Has(_pin, PinBasedControls.VirtualNmis))
        {
            _virtualNmiBlocked = (interruptibility & 8) != 0;
            _cpu.NmiBlocked = false;
        }
        else _cpu.NmiBlocked = (interruptibility & 8) != 0;
        _cpu.Activity = (ActivityState)v[VmcsField.GuestActivityState];
        return true;
    }

    /// <summary>Sets up the processor's side of the non-root controls: windows, the preemption timer, INTR with IF ignored.</summary>
    private void ArmNonRootEvents(Vmcs v)
    {
        _cpu.InterruptFlagIgnored = Has(_pin, PinBasedControls.ExternalInterruptExiting);
        _entryRetired = _cpu.InstructionsRetired;
        _pendingMtf = false;
        _heldDebugExceptions = 0;
        _dropSingleStep = false;
        _nmiBlockingHeld = false;
        _cpu.WatchEventWindows = WindowsWatched();
        if (Has(_pin, PinBasedControls.ActivateVmxPreemptionTimer))
        {
            var ticks = (uint)v[VmcsField.VmxPreemptionTimerValue];
            _preemptionDeadline = _cpu.Cycles + ((ulong)ticks << VmxCapability.PreemptionTimerRate);
            _cpu.EventDeadline = _preemptionDeadline;
        }
        else
        {
            _preemptionDeadline = ulong.MaxValue;
            _cpu.EventDeadline = ulong.MaxValue;
        }
    }

    /// <summary>Whether instruction boundaries must reach <see cref="EventWindow"/>: window exiting, the monitor trap flag, a pending MTF VM exit.</summary>
    private bool WindowsWatched() =>
        _pendingMtf || Has(_proc, ProcessorBasedControls.InterruptWindowExiting | ProcessorBasedControls.NmiWindowExiting | ProcessorBasedControls.MonitorTrapFlag);

    /// <summary>Event injection (27.6): the VM-entry interruption-information field delivered through the guest IDT.</summary>
    private void InjectEvent(Vmcs v)
    {
        var info = (uint)v[VmcsField.VmEntryInterruptionInformation];
        if ((info & 0x80000000) == 0) return;
        var vector = (int)(info & 0xFF);
        if (((info >> 8) & 7) == 7)
        {
            // Type 7, vector 0: an MTF VM exit pending on the boundary after the entry, whatever the monitor trap flag (27.6.2).
            _pendingMtf = true;
            _cpu.WatchEventWindows = true;
            return;
        }
        if (VmxInterruptionType.ToEventType((info >> 8) & 7) is not { } type) return;
        var hasError = (info & 0x800) != 0;
        var length = type is EventType.SoftwareInterrupt or EventType.PrivilegedSoftwareException or EventType.SoftwareException
            ? (int)v[VmcsField.VmEntryInstructionLength] : 0;
        // The valid bit is cleared by the VM exit that follows, not by the entry (27.6.1).
        if (type == EventType.Nmi && Has(_pin, PinBasedControls.VirtualNmis)) _virtualNmiBlocked = true;
        var physicalNmiBlocked = _cpu.NmiBlocked;
        _cpu.InjectEvent(vector, type, (uint)v[VmcsField.VmEntryExceptionErrorCode], hasError, length);
        if (type == EventType.Nmi && Has(_pin, PinBasedControls.VirtualNmis) && InNonRootOperation) _cpu.NmiBlocked = physicalNmiBlocked;
        NoteEventDelivered();
    }

    /// <summary>
    /// Pending debug exceptions (27.7.3): valid only with BS (bit 14) or enabled breakpoint (bit 12) set, and then B0–B3 and BS
    /// deliver a #DB before the first guest instruction, unless the entry is vectoring; B0–B3 alone are no pending exception.
    /// </summary>
    private void DeliverPendingDebugExceptions(Vmcs v)
    {
        var injection = v[VmcsField.VmEntryInterruptionInformation];
        if ((injection & 0x80000000) != 0 && ((injection >> 8) & 7) != 7) return;
        var pending = v[VmcsField.GuestPendingDebugExceptions];
        if ((pending & 0x5000) == 0 || _cpu.BlockingByMovSs || _cpu.Activity != ActivityState.Active) return;
        // A pending MTF VM exit comes first (26.6.3); the debug exceptions are still pending when it happens.
        if (_pendingMtf)
        {
            _heldDebugExceptions = pending & PendingDebugBits;
            return;
        }
        // With bit 1 of the exception bitmap the #DB is a VM exit, and DR6 is left alone (27.7.3).
        if ((_exceptionBitmap & (1u << ExceptionVector.DB)) != 0)
        {
            BeginExit();
            _current![VmcsField.VmExitInterruptionInformation] = 0x80000000u | (3u << 8) | (uint)ExceptionVector.DB;
            Exit(VmExitReason.ExceptionOrNmi, pending & 0x400F);
            return;
        }
        _cpu.SetDebugRegister(6, (_cpu.GetDebugRegister(6) & ~0x400FUL) | (pending & 0x400F));
        _cpu.InjectEvent(1, EventType.HardwareException, 0, false, 0);
        NoteEventDelivered();
    }

    /// <summary>
    /// An event reached the guest through its IDT: with the monitor trap flag, an MTF VM exit is pending on
    /// the boundary after the delivery, before the handler's first instruction (26.7.2).
    /// </summary>
    private void NoteEventDelivered()
    {
        if (InNonRootOperation && Has(_proc, ProcessorBasedControls.MonitorTrapFlag)) _pendingMtf = true;
    }

    /// <summary>
    /// Loads an MSR list (27.4, 28.6); returns 0 on success or the 1-based number of the entry
    /// that failed. Entries naming FS/GS base, IA32_SMM_MONITOR_CTL, the microcode-update
    /// MSRs or the x2APIC range, with reserved bits set, or refused by WRMSR, fail.
    /// </summary>
    private ulong LoadMsrList(ulong address, ulong count)
    {
        for (ulong i = 0; i < count; i++)
        {
            var low = _memory.Read(address + i * 16, 8);
            var data = _memory.Read(address + i * 16 + 8, 8);
            var index = (uint)low;
            if ((low >> 32) != 0) return i + 1;
            if (index is Msr.FsBase or Msr.GsBase) return i + 1;
            if (index is 0x9B or 0x79 or 0x7C || (index >> 8) == 8) return i + 1;
            if (!_cpu.TryWriteMsr(index, data)) return i + 1;
        }
        return 0;
    }

    /// <summary>Stores the guest's MSRs into the VM-exit MSR-store list (28.4); false when an entry cannot be read.</summary>
    private bool StoreMsrList(ulong address, ulong count)
    {
        for (ulong i = 0; i < count; i++)
        {
            var low = _memory.Read(address + i * 16, 8);
            var index = (uint)low;
            if ((low >> 32) != 0 || index == 0x9E || (index >> 8) == 8) return false;
            ulong value;
            // The counter itself at the exit: the TSC offset is the guest's view through RDTSC and RDMSR (26.3), not the MSR's value.
            if (index == Msr.TimeStampCounter) value = _cpu.CurrentCycle + (ulong)_hostTscOffset;
            else if (index == Msr.TscAdjust) value = (ulong)_hostTscOffset;
            else if (!_cpu.TryReadMsr(index, out value)) return false;
            _memory.Write(address + i * 16 + 8, 8, value);
        }
        return true;
    }
}
