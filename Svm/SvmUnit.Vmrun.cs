using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using Sim.Svm.Npt;

namespace Sim.Svm;

/// <summary>VMRUN (AMD APM vol. 2, 15.5): host state to VM_HSAVE_PA, VMCB checks, guest state, TLB control, event injection.</summary>
public sealed partial class SvmUnit
{
    /// <summary>Bytes of the I/O permission map (12 KiB) and the MSR permission map (8 KiB) (15.10.1, 15.11).</summary>
    private const ulong IopmSize = 12 * 1024, MsrpmSize = 8 * 1024;

    /// <summary>EFER bits the processor implements; the others are MBZ in the VMCB.</summary>
    private const ulong EferDefined = Efer.SCE | Efer.LME | Efer.LMA | Efer.NXE | Efer.SVME;

    /// <summary>CR4 bits an AMD guest may set: the processor's, without Intel's VMXE.</summary>
    private const ulong Cr4Defined = Cr4.Supported & ~Cr4.VMXE;

    private ulong _hostTscOffset;
    private ulong _hostPat;

    /// <summary>V_TPR while a guest runs without V_INTR_MASKING; with it, the processor's CR8 is V_TPR (15.21.2).</summary>
    private ulong _vTpr;
    private bool _hostInterruptFlag;
    private int _pauseFilterCounter;
    private ulong _lastPauseCycle;

    private SvmResult Run(ulong vmcbPa, ulong hostRip)
    {
        var check = CheckSvmInstruction();
        if (check != SvmResult.Success) return check;
        if (!ValidPage(vmcbPa)) return SvmResult.GeneralProtection;

        LastConsistencyFailure = VmcbConsistencyCheck.None;
        SaveHostState(hostRip);
        var reused = _vmcbState.Vmcb == vmcbPa;
        var clean = reused ? (VmcbCleanBits)(uint)_memory.Read(vmcbPa + VmcbLayout.VmcbClean, 4) : VmcbCleanBits.None;
        LoadVmcb(vmcbPa, clean);
        VmcbAddress = vmcbPa;
        var failure = CheckConsistency(vmcbPa);
        if (failure != VmcbConsistencyCheck.None)
        {
            LastConsistencyFailure = failure;
            _vmcbState.Vmcb = VmcbStateCache.NoVmcb;
            _memory.Write(vmcbPa + VmcbLayout.ExitCode, 8, SvmExitCode.Invalid);
            _memory.Write(vmcbPa + VmcbLayout.ExitInfo1, 8, 0);
            _memory.Write(vmcbPa + VmcbLayout.ExitInfo2, 8, 0);
            _memory.Write(vmcbPa + VmcbLayout.ExitIntInfo, 8, 0);
            LastExitCode = SvmExitCode.Invalid;
            ExitCount++;
            _cpu.AddCycles(Costs.Vmrun);
            LoadHostState(new GuestExit(GuestExitSource.Svm, SvmExitCode.Invalid, 0, 0, 0));
            return SvmResult.VmexitInvalid;
        }
        _vmcbState.Vmcb = vmcbPa;
        EnterGuest(vmcbPa);
        return SvmResult.Success;
    }

    /// <summary>The host state VMRUN saves (15.5.1), in the state-save layout at VM_HSAVE_PA.</summary>
    private void SaveHostState(ulong hostRip)
    {
        var cpu = _cpu;
        var m = _memory;
        var h = _hsavePa;
        VmcbSegment.Write(m, h + VmcbLayout.Es, cpu.GetSegment(SegmentIndex.ES));
        VmcbSegment.Write(m, h + VmcbLayout.Cs, cpu.GetSegment(SegmentIndex.CS));
        VmcbSegment.Write(m, h + VmcbLayout.Ss, cpu.GetSegment(SegmentIndex.SS));
        VmcbSegment.Write(m, h + VmcbLayout.Ds, cpu.GetSegment(SegmentIndex.DS));
        VmcbSegment.WriteTable(m, h + VmcbLayout.Gdtr, cpu.Gdtr);
        VmcbSegment.WriteTable(m, h + VmcbLayout.Idtr, cpu.Idtr);
        m.Write(h + VmcbLayout.Efer, 8, cpu.Efer);
        m.Write(h + VmcbLayout.Cr0, 8, cpu.Cr0);
        m.Write(h + VmcbLayout.Cr3, 8, cpu.Cr3);
        m.Write(h + VmcbLayout.Cr4, 8, cpu.Cr4);
        var flags = cpu.Flags;
        m.Write(h + VmcbLayout.Rflags, 8, flags);
        m.Write(h + VmcbLayout.Rip, 8, hostRip);
        m.Write(h + VmcbLayout.Rsp, 8, cpu.Rsp);
        m.Write(h + VmcbLayout.Rax, 8, cpu.Rax);
        _hostInterruptFlag = (flags & Rflags.IF) != 0;
        _hostTscOffset = (ulong)cpu.TscOffset;
        _hostPat = cpu.Pat;
    }

    /// <summary>Reads the control area and guest state, taking each clean group from the cache instead (15.15.3).</summary>
    private void LoadVmcb(ulong v, VmcbCleanBits clean)
    {
        var m = _memory;
        var c = _vmcbState;
        if ((clean & VmcbCleanBits.I) == 0)
        {
            c.InterceptCr = (uint)m.Read(v + VmcbLayout.InterceptCr, 4);
            c.InterceptDr = (uint)m.Read(v + VmcbLayout.InterceptDr, 4);
            c.InterceptExceptions = (uint)m.Read(v + VmcbLayout.InterceptExceptions, 4);
            c.InterceptMisc1 = (uint)m.Read(v + VmcbLayout.InterceptMisc1, 4);
            c.InterceptMisc2 = (uint)m.Read(v + VmcbLayout.InterceptMisc2, 4);
            c.InterceptMisc3 = (uint)m.Read(v + VmcbLayout.InterceptMisc3, 4);
            c.TscOffset = m.Read(v + VmcbLayout.TscOffset, 8);
            c.PauseFilterCount = (ushort)m.Read(v + VmcbLayout.PauseFilterCount, 2);
            c.PauseFilterThreshold = (ushort)m.Read(v + VmcbLayout.PauseFilterThreshold, 2);
        }
        if ((clean & VmcbCleanBits.Iopm) == 0)
        {
            c.IopmBasePa = m.Read(v + VmcbLayout.IopmBasePa, 8) & ~0xFFFUL;
            c.MsrpmBasePa = m.Read(v + VmcbLayout.MsrpmBasePa, 8) & ~0xFFFUL;
        }
        if ((clean & VmcbCleanBits.Asid) == 0) c.Asid = (uint)m.Read(v + VmcbLayout.GuestAsid, 4);
        if ((clean & VmcbCleanBits.Tpr) == 0) c.VIntr = m.Read(v + VmcbLayout.VIntr, 8);
        if ((clean & VmcbCleanBits.Np) == 0)
        {
            c.NpEnable = (m.Read(v + VmcbLayout.NpEnable, 8) & 1) != 0;
            c.NCr3 = m.Read(v + VmcbLayout.NCr3, 8);
            c.GPat = m.Read(v + VmcbLayout.GPat, 8);
        }
        if ((clean & VmcbCleanBits.CrX) == 0)
        {
            c.Cr0 = m.Read(v + VmcbLayout.Cr0, 8);
            c.Cr3 = m.Read(v + VmcbLayout.Cr3, 8);
            c.Cr4 = m.Read(v + VmcbLayout.Cr4, 8);
            c.Efer = m.Read(v + VmcbLayout.Efer, 8);
        }
        if ((clean & VmcbCleanBits.DrX) == 0)
        {
            c.Dr6 = m.Read(v + VmcbLayout.Dr6, 8);
            c.Dr7 = m.Read(v + VmcbLayout.Dr7, 8);
        }
        if ((clean & VmcbCleanBits.Dt) == 0)
        {
            c.Gdtr = VmcbSegment.ReadTable(m, v + VmcbLayout.Gdtr);
            c.Idtr = VmcbSegment.ReadTable(m, v + VmcbLayout.Idtr);
        }
        if ((clean & VmcbCleanBits.Seg) == 0)
        {
            c.Es = VmcbSegment.Read(m, v + VmcbLayout.Es, true);
            c.Cs = VmcbSegment.Read(m, v + VmcbLayout.Cs, false);
            c.Ss = VmcbSegment.Read(m, v + VmcbLayout.Ss, true);
            c.Ds = VmcbSegment.Read(m, v + VmcbLayout.Ds, true);
            c.Cpl = (int)m.Read(v + VmcbLayout.Cpl, 1) & 3;
        }
        if ((clean & VmcbCleanBits.Cr2) == 0) c.Cr2 = m.Read(v + VmcbLayout.Cr2, 8);
    }

    /// <summary>The checks of APM vol. 2, 15.5.1 (and 15.20 for EVENTINJ), in the order listed there.</summary>
    private VmcbConsistencyCheck CheckConsistency(ulong v)
    {
        var c = _vmcbState;
        if ((c.Efer & Efer.SVME) == 0) return VmcbConsistencyCheck.EferSvmeClear;
        if ((c.Cr0 & Cr0.CD) == 0 && (c.Cr0 & Cr0.NW) != 0) return VmcbConsistencyCheck.Cr0CdClearNwSet;
        if ((c.Cr0 >> 32) != 0) return VmcbConsistencyCheck.Cr0HighBitsSet;
        var longMode = (c.Efer & Efer.LME) != 0 && (c.Cr0 & Cr0.PG) != 0;
        var cr3Reserved = longMode ? ~(MaxPhysicalAddress - 1) : 0xFFFFFFFF00000000UL;
        if ((c.Cr3 & cr3Reserved) != 0) return VmcbConsistencyCheck.Cr3MbzBitSet;
        if ((c.Cr4 & ~Cr4Defined) != 0) return VmcbConsistencyCheck.Cr4MbzBitSet;
        if ((c.Dr6 >> 32) != 0) return VmcbConsistencyCheck.Dr6HighBitsSet;
        if ((c.Dr7 >> 32) != 0) return VmcbConsistencyCheck.Dr7HighBitsSet;
        if ((c.Efer & ~EferDefined) != 0) return VmcbConsistencyCheck.EferMbzBitSet;
        if (longMode && (c.Cr4 & Cr4.PAE) == 0) return VmcbConsistencyCheck.LongModeWithoutCr4Pae;
        if (longMode && (c.Cr0 & Cr0.PE) == 0) return VmcbConsistencyCheck.LongModeWithoutCr0Pe;
        if (longMode && (c.Cr4 & Cr4.PAE) != 0 && c.Cs.Long && c.Cs.DefaultBig) return VmcbConsistencyCheck.LongModeWithCsLAndD;
        if (!c.Intercepts(SvmIntercept.Vmrun)) return VmcbConsistencyCheck.VmrunInterceptClear;
        if (c.Asid == 0) return VmcbConsistencyCheck.AsidZero;
        // Whether or not the MSR and IOIO intercepts are on, the tables must end below the maximum physical address (15.5.1);
        // compared as base > limit - size so that a base near 2^64 cannot wrap past the check.
        if (c.MsrpmBasePa > MaxPhysicalAddress - MsrpmSize) return VmcbConsistencyCheck.MsrpmBeyondMaxPhysicalAddress;
        if (c.IopmBasePa > MaxPhysicalAddress - IopmSize) return VmcbConsistencyCheck.IopmBeyondMaxPhysicalAddress;
        var eventInj = _memory.Read(v + VmcbLayout.EventInj, 8);
        if ((eventInj & SvmEventInjection.Valid) != 0 && !SvmEventInjection.IsLegal(eventInj)) return VmcbConsistencyCheck.IllegalEventInjection;
        // An event impossible in the guest's mode fails too (15.20): #BR, whose BOUND does not exist in 64-bit mode.
        if ((eventInj & SvmEventInjection.Valid) != 0 && longMode && c.Cs.Long
            && SvmEventInjection.Type(eventInj) == SvmEventInjection.TypeException && SvmEventInjection.Vector(eventInj) == ExceptionVector.BR)
            return VmcbConsistencyCheck.IllegalEventInjection;
        // Nested paging walks with the host's paging mode, so it needs host paging (15.25.3); nCR3 follows the host's CR3 format (15.25.4).
        if (c.NpEnable && (_cpu.Cr0 & Cr0.PG) == 0) return VmcbConsistencyCheck.NestedPagingWithoutHostPaging;
        if (c.NpEnable && (c.NCr3 & (_cpu.InLongMode ? ~(MaxPhysicalAddress - 1) : 0xFFFFFFFF00000000UL)) != 0) return VmcbConsistencyCheck.NCr3MbzBitSet;
        if (c.NpEnable && !LegalPat(c.GPat)) return VmcbConsistencyCheck.IllegalGPat;
        // Legacy PAE paging without nested paging: VMRUN reads the four PDPEs, and a reserved bit fails it (15.5.1).
        if (!c.NpEnable && !longMode && (c.Cr0 & Cr0.PG) != 0 && (c.Cr4 & Cr4.PAE) != 0 && !LegalPdpes(c.Cr3)) return VmcbConsistencyCheck.PdpeReservedBitSet;
        return VmcbConsistencyCheck.None;
    }

    /// <summary>Whether no present PDPE of the table at <paramref name="cr3"/> sets a reserved bit (APM vol. 2, 5.3.3).</summary>
    private bool LegalPdpes(ulong cr3)
    {
        var table = cr3 & 0xFFFFFFE0UL;
        for (var i = 0UL; i < 4; i++)
            if (!Processor.IsLegalPdpte(_memory.Read(table + i * 8, 8))) return false;
        return true;
    }

    private static bool LegalPat(ulong pat)
    {
        for (var i = 0; i < 8; i++)
            if (((pat >> (8 * i)) & 0xFF) is not (0 or 1 or 4 or 5 or 6 or 7)) return false;
        return true;
    }

    /// <summary>Loads the guest (15.5.1), applies TLB_CONTROL, arms the intercept plumbing, sets GIF and injects EVENTINJ.</summary>
    private void EnterGuest(ulong v)
    {
        var cpu = _cpu;
        var m = _memory;
        var c = _vmcbState;
        cpu.AddCycles(Costs.Vmrun);
        InGuest = true;

        var hostCr0 = cpu.Cr0;
        var hostCr4 = cpu.Cr4;
        var hostEfer = cpu.Efer;
        if (c.NpEnable)
        {
            var npt = _npt ??= new NestedPageTranslator(m);
            npt.NCr3 = c.NCr3;
            npt.SetHostPagingMode(hostCr0, hostCr4, hostEfer);
            cpu.SecondLevel = npt;
            cpu.Pat = c.GPat;
        }
        else cpu.SecondLevel = null;

        cpu.TranslationTag = _tags.TagFor(c.Asid, c.NpEnable ? c.NCr3 : 0);
        switch ((int)(m.Read(v + VmcbLayout.TlbControl, 1)))
        {
            case 0: break;
            case 3 or 7: _tags.FlushFirst(c.Asid); break;
            // 1 flushes every ASID; the reserved encodings get the same, which is never wrong for a TLB.
            default: cpu.FlushTranslations(); break;
        }

        cpu.TscOffset = (long)(_hostTscOffset + c.TscOffset);
        cpu.Flags = m.Read(v + VmcbLayout.Rflags, 8);
        cpu.SetSegment(SegmentIndex.ES, c.Es);
        cpu.SetSegment(SegmentIndex.CS, c.Cs);
        cpu.SetSegment(SegmentIndex.SS, c.Ss);
        cpu.SetSegment(SegmentIndex.DS, c.Ds);
        cpu.Gdtr = c.Gdtr;
        cpu.Idtr = c.Idtr;
        cpu.LoadControlState(c.Cr0, c.Cr3, c.Cr4, c.Efer, flush: false);
        // The guest's CPL is the VMCB's CPL field, not CS.DPL or SS.DPL (15.5.1); real and virtual-8086 mode force 0 and 3.
        cpu.LoadCpl(c.Cpl);
        if (c.NpEnable) LoadNestedPdptes();
        cpu.Rip = m.Read(v + VmcbLayout.Rip, 8);
        cpu.Rsp = m.Read(v + VmcbLayout.Rsp, 8);
        cpu.Rax = m.Read(v + VmcbLayout.Rax, 8);
        cpu.SetDebugRegister(6, c.Dr6);
        cpu.SetDebugRegister(7, c.Dr7);
        cpu.Cr2 = c.Cr2;
        // Under V_INTR_MASKING CR8 is V_TPR; without it CR8 stays the APIC's TPR and only writes reach V_TPR too (15.21.2).
        _vTpr = c.VIntr & 0xF;
        if ((c.VIntr & VIntrMasking) != 0) cpu.VirtualTpr = _vTpr;
        cpu.Activity = ActivityState.Active;
        var shadow = (m.Read(v + VmcbLayout.InterruptShadow, 8) & 1) != 0;
        if (shadow || cpu.BlockingBySti || cpu.BlockingByMovSs) cpu.SetInterruptShadow(shadow, false);

        _pauseFilterCounter = c.PauseFilterCount;
        _lastPauseCycle = cpu.CurrentCycle;
        cpu.GlobalInterruptFlag = true;
        UpdateEventPlumbing();

        var eventInj = m.Read(v + VmcbLayout.EventInj, 8);
        if ((eventInj & SvmEventInjection.Valid) != 0) Inject(eventInj);
    }

    /// <summary>
    /// Legacy PAE paging under nested paging: the four PDPTEs come from guest-physical CR3 through
    /// the nested tables. One the nested walk refuses reads as not present, so the guest's access
    /// through it takes a #PF rather than the #NPF the walk would give (not modeled).
    /// </summary>
    private void LoadNestedPdptes()
    {
        var cpu = _cpu;
        if ((cpu.Cr0 & Cr0.PG) == 0 || (cpu.Cr4 & Cr4.PAE) == 0 || cpu.InLongMode) return;
        Span<ulong> pdpte = stackalloc ulong[4];
        var table = cpu.Cr3 & 0xFFFFFFE0UL;
        for (var i = 0; i < 4; i++)
        {
            var gpa = table + (ulong)i * 8;
            pdpte[i] = _npt!.Translate(cpu, gpa, GuestPhysicalAccess.Read | GuestPhysicalAccess.PagingStructure, 0, out var hpa) ? _memory.Read(hpa, 8) : 0;
        }
        cpu.LoadPdptes(pdpte[0], pdpte[1], pdpte[2], pdpte[3]);
    }

    /// <summary>
    /// EVENTINJ (15.20): the event is delivered through the guest IDT before its first instruction,
    /// without intercept checks on the event itself; a fault during delivery may be intercepted.
    /// An injected software interrupt returns to NRIP when the VMM put it past the VMCB's RIP: with
    /// NRIP save offered, hardware advances RIP to NRIP while it delivers INTn, so a VMM may leave
    /// RIP at the instruction; a VMM that advanced RIP itself leaves NRIP no higher and the event
    /// returns to RIP. An exception (type 3) with vector 3 or 4 behaves like the trap INT3 or INTO
    /// raises: the gate's DPL is checked and, like INTn, it returns to NRIP by the same rule.
    /// </summary>
    private void Inject(ulong eventInj)
    {
        const ulong MaxInstructionLength = 15;
        var type = SvmEventInjection.Type(eventInj) switch
        {
            SvmEventInjection.TypeIntr => EventType.ExternalInterrupt,
            SvmEventInjection.TypeNmi => EventType.Nmi,
            SvmEventInjection.TypeSoftwareInterrupt => EventType.SoftwareInterrupt,
            _ => SvmEventInjection.Vector(eventInj) is ExceptionVector.BP or ExceptionVector.OF ? EventType.SoftwareException : EventType.HardwareException,
        };
        // The VECTOR field is ignored for an NMI (15.20): it goes through vector 2.
        var vector = type == EventType.Nmi ? ExceptionVector.NMI : SvmEventInjection.Vector(eventInj);
        var hasError = type is EventType.HardwareException or EventType.SoftwareException && (eventInj & SvmEventInjection.ErrorCodeValid) != 0;
        var length = 0;
        if (type is EventType.SoftwareInterrupt or EventType.SoftwareException)
        {
            var ahead = _memory.Read(VmcbAddress + VmcbLayout.NRip, 8) - _cpu.Rip;
            if (ahead <= MaxInstructionLength) length = (int)ahead;
        }
        var nmiBlocked = _cpu.NmiBlocked;
        _cpu.InjectEvent(vector, type, (uint)(eventInj >> 32), hasError, length);
        // An injected NMI does not block delivery of further NMIs (15.20).
        if (type == EventType.Nmi) _cpu.NmiBlocked = nmiBlocked;
    }

    /// <summary>
    /// Virtual interrupts and INTR under V_INTR_MASKING (15.21): a pending V_IRQ is watched at every
    /// boundary; with V_INTR_MASKING and the host's IF set, physical interrupts reach the unit
    /// whatever the guest's IF.
    /// </summary>
    private void UpdateEventPlumbing()
    {
        var cpu = _cpu;
        var c = _vmcbState;
        var vIrq = InGuest && (c.VIntr & VIrq) != 0;
        if (cpu.WatchEventWindows != vIrq) cpu.WatchEventWindows = vIrq;
        var ignored = InGuest && (c.VIntr & VIntrMasking) != 0;
        if (cpu.InterruptFlagIgnored != ignored) cpu.InterruptFlagIgnored = ignored;
    }

    private const ulong VIrq = 1UL << 8;
    private const ulong VIgnTpr = 1UL << 20;
    private const ulong VIntrMasking = 1UL << 24;

    /// <summary>The guest's V_TPR: the processor's CR8 under V_INTR_MASKING, else the copy guest CR8 writes update (15.21.2).</summary>
    private ulong VTpr => (_vmcbState.VIntr & VIntrMasking) != 0 ? _cpu.Cr8 & 0xF : _vTpr;
}
