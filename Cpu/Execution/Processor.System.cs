using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private readonly ulong[] _dr = new ulong[8];

    /// <summary>CR8: the task-priority register as seen through MOV CR8 (bits 3:0).</summary>
    /// <summary>
    /// CR8: <see cref="VirtualTpr"/> while a unit virtualizes it, else the local APIC's TPR[7:4] when the
    /// processor has one (SDM vol. 3, 11.8.6.1), else a plain register.
    /// </summary>
    public ulong Cr8
    {
        get => _virtualTpr ?? (_localApic is { } apic ? (ulong)(apic.TaskPriority >> 4) : _cr8);
        set
        {
            if (_virtualTpr != null) _virtualTpr = value & 0xF;
            else if (_localApic is { } apic) apic.TaskPriority = (byte)((value & 0xF) << 4);
            else _cr8 = value;
        }
    }

    private ulong _cr8;

    /// <summary>
    /// While not null, CR8 reads and writes this value and the local APIC's TPR stays as it is: SVM's
    /// V_INTR_MASKING, under which a guest's CR8 is V_TPR (AMD APM vol. 2, 15.21.2).
    /// </summary>
    public ulong? VirtualTpr
    {
        get => _virtualTpr;
        set => _virtualTpr = value & 0xF;
    }

    private ulong? _virtualTpr;

    private bool RequireCpl0() => Cpl == 0 || RaiseFault(ExceptionVector.GP, 0);

    private bool ExecuteSystem(ref DecodedOp op)
    {
        switch (op.Handler)
        {
            case Handler.Hlt:
                if (!RequireCpl0()) return false;
                if (Hooks != null && Intercepted(ref op, InterceptKind.Hlt, 0, 0)) return _hookRetired;
                Next(ref op);
                Activity = ActivityState.Hlt;
                _stopBlock = true;
                _eventsPending = true;
                return true;
            case Handler.Cpuid:
                if (Hooks != null && Intercepted(ref op, InterceptKind.Cpuid, (uint)_r[0], (uint)_r[1])) return _hookRetired;
                Cpuid((uint)_r[0], (uint)_r[1], out var a, out var b, out var c, out var d);
                _r[0] = a;
                _r[3] = b;
                _r[1] = c;
                _r[2] = d;
                return Next(ref op);
            case Handler.Rdtsc:
                if ((Cr4 & Registers.Cr4.TSD) != 0 && Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.Rdtsc, 0, 0)) return _hookRetired;
                SetEdxEax(TimeStampCounter);
                return Next(ref op);
            case Handler.Rdtscp:
                if ((Cr4 & Registers.Cr4.TSD) != 0 && Cpl != 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.Rdtscp, 0, 0)) return _hookRetired;
                SetEdxEax(TimeStampCounter);
                _r[1] = (uint)TscAux;
                return Next(ref op);
            case Handler.Rdmsr:
            {
                if (!RequireCpl0()) return false;
                var index = (uint)_r[1];
                if (Hooks != null && Intercepted(ref op, InterceptKind.Rdmsr, index, 0)) return _hookRetired;
                if (!TryReadMsr(index, out var value)) return RaiseFault(ExceptionVector.GP, 0);
                SetEdxEax(value);
                return Next(ref op);
            }
            case Handler.Wrmsr:
            {
                if (!RequireCpl0()) return false;
                var index = (uint)_r[1];
                var value = ((ulong)(uint)_r[2] << 32) | (uint)_r[0];
                if (Hooks != null && Intercepted(ref op, InterceptKind.Wrmsr, index, value)) return _hookRetired;
                if (!TryWriteMsr(index, value)) return RaiseFault(ExceptionVector.GP, 0);
                return Next(ref op);
            }
            case Handler.Rdpmc:
                if (Hooks != null && Intercepted(ref op, InterceptKind.Rdpmc, (uint)_r[1], 0)) return _hookRetired;
                // CPUID leaf 0Ah reports no performance counters, so every counter index is invalid.
                return RaiseFault(ExceptionVector.GP, 0);
            case Handler.MovFromCr: return MoveFromControlRegister(ref op);
            case Handler.MovToCr: return MoveToControlRegister(ref op, op.Sub, _r[op.Rm]);
            case Handler.MovFromDr: return MoveFromDebugRegister(ref op);
            case Handler.MovToDr: return MoveToDebugRegister(ref op);
            case Handler.Clts:
                if (!RequireCpl0()) return false;
                if (Hooks != null)
                {
                    InterceptValue = Cr0 & ~Registers.Cr0.TS;
                    if (Intercepted(ref op, InterceptKind.CrWrite, 0x200, InterceptValue)) return _hookRetired;
                    // Under a CR0 guest/host mask CLTS may leave TS alone; the unit says so through the value.
                    Cr0 = (Cr0 & ~Registers.Cr0.TS) | (InterceptValue & Registers.Cr0.TS);
                    return Next(ref op);
                }
                Cr0 &= ~Registers.Cr0.TS;
                return Next(ref op);
            case Handler.Lmsw:
            {
                if (!RequireCpl0()) return false;
                if (!ReadWordOperand(ref op, out var v)) return false;
                // LMSW changes PE, MP, EM and TS, and can set PE but never clear it.
                var cr0 = (Cr0 & ~0xEUL) | ((ulong)v & 0xF) | (Cr0 & Registers.Cr0.PE);
                return MoveToControlRegister(ref op, 0, cr0, fromLmsw: true);
            }
            case Handler.SmswR:
                if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.CrRead, 0x100, 0)) return _hookRetired;
                SetReg(op.Rm, op.Size, Cr0 & OperandMask(op.Size));
                return Next(ref op);
            case Handler.SmswM:
                if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.CrRead, 0x100, 0)) return _hookRetired;
                if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, Cr0)) return false;
                return Next(ref op);
            case Handler.Invlpg:
            {
                if (!RequireCpl0()) return false;
                var ea = EffectiveAddress(ref op);
                var linear = _bitness == 64 ? (op.Segment >= 4 ? _segCheck[op.Segment].Base : 0) + ea : (uint)(_segCheck[op.Segment].Base + ea);
                if (Hooks != null && Intercepted(ref op, InterceptKind.Invlpg, linear, 0)) return _hookRetired;
                Tlb.FlushPage(linear);
                ClearBlockLookup();
                return Next(ref op);
            }
            case Handler.Invpcid:
            {
                if (!RequireCpl0()) return false;
                var type = _r[op.R];
                if (_bitness != 64) type &= 0xFFFFFFFF;
                if (Hooks != null && Intercepted(ref op, InterceptKind.Invpcid, type, 0)) return _hookRetired;
                if (type > 3) return RaiseFault(ExceptionVector.GP, 0);
                var descriptor = EffectiveAddress(ref op);
                if (!ReadMem(op.Segment, descriptor, 8, out var pcid)) return false;
                if (!ReadMem(op.Segment, (descriptor + 8) & (ulong.MaxValue >> op.AddressShift), 8, out var address)) return false;
                if (pcid > 0xFFF) return RaiseFault(ExceptionVector.GP, 0);
                switch (type)
                {
                    case 0:
                        if (!IsCanonical(address)) return RaiseFault(ExceptionVector.GP, 0);
                        Tlb.FlushPage(address);
                        ClearBlockLookup();
                        break;
                    case 1:
                        Tlb.FlushContext(pcid | ((ulong)_translationTag << 48));
                        ClearBlockLookup();
                        break;
                    default:
                        FlushTranslations();
                        break;
                }
                return Next(ref op);
            }
            case Handler.Wbinvd:
                if (!RequireCpl0()) return false;
                if (Hooks != null && Intercepted(ref op, InterceptKind.Wbinvd, 0, 0)) return _hookRetired;
                return Next(ref op);
            case Handler.Invd:
                if (!RequireCpl0()) return false;
                if (Hooks != null && Intercepted(ref op, InterceptKind.Invd, 0, 0)) return _hookRetired;
                return Next(ref op);
            case Handler.Lgdt or Handler.Lidt: return LoadDescriptorTable(ref op);
            case Handler.Sgdt or Handler.Sidt: return StoreDescriptorTable(ref op);
            case Handler.LldtR or Handler.LldtM or Handler.LtrR or Handler.LtrM: return LoadSystemSegment(ref op);
            case Handler.SldtR or Handler.StrR:
                if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
                if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable, 0, 0)) return _hookRetired;
                SetReg(op.Rm, op.Size, op.Handler == Handler.SldtR ? Ldtr.Selector : Tr.Selector);
                return Next(ref op);
            case Handler.SldtM or Handler.StrM:
                if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
                if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
                if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable, 0, 0)) return _hookRetired;
                if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, op.Handler == Handler.SldtM ? Ldtr.Selector : Tr.Selector)) return false;
                return Next(ref op);
            case Handler.LarLsl: return LoadAccessRightsOrLimit(ref op);
            case Handler.VerrVerw: return VerifySegment(ref op);
            case Handler.ArplR or Handler.ArplM: return AdjustRpl(ref op);
            case Handler.Syscall: return Syscall(ref op);
            case Handler.Sysret: return Sysret(ref op);
            case Handler.Sysenter: return Sysenter(ref op);
            case Handler.Sysexit: return Sysexit(ref op);
            case Handler.Swapgs:
            {
                if (_bitness != 64) return RaiseFault(ExceptionVector.UD, 0);
                if (!RequireCpl0()) return false;
                var gs = _seg[(int)SegmentIndex.GS].Base;
                _seg[(int)SegmentIndex.GS].Base = KernelGsBase;
                KernelGsBase = gs;
                SegmentChanged((int)SegmentIndex.GS);
                return Next(ref op);
            }
            case Handler.ReadSegmentBase or Handler.WriteSegmentBase:
            {
                if (_bitness != 64 || (Cr4 & Registers.Cr4.FSGSBASE) == 0) return RaiseFault(ExceptionVector.UD, 0);
                if (op.Handler == Handler.ReadSegmentBase)
                {
                    SetReg(op.R, op.Size, _seg[op.Sub].Base);
                    return Next(ref op);
                }
                var value = GetReg(op.R, op.Size);
                if (!IsCanonical(value)) return RaiseFault(ExceptionVector.GP, 0);
                _seg[op.Sub].Base = value;
                SegmentChanged(op.Sub);
                return Next(ref op);
            }
            case Handler.Pause:
                if (Hooks != null && Intercepted(ref op, InterceptKind.Pause, 0, 0)) return _hookRetired;
                return Next(ref op);
            case Handler.Fence:
                if (op.Sub == 1 && !ReadMem(op.Segment, EffectiveAddress(ref op), 1, out _)) return false;
                return Next(ref op);
            case Handler.Xgetbv or Handler.Xsetbv:
                // CPUID reports no XSAVE, so CR4.OSXSAVE cannot be set and both raise #UD.
                return RaiseFault(ExceptionVector.UD, 0);
            case Handler.MonitorMwait: return MonitorOrMwait(ref op);
            case Handler.Rsm:
                if (Hooks != null && Intercepted(ref op, InterceptKind.Rsm, 0, 0)) return _hookRetired;
                // The processor has no system-management mode, so it is never in SMM.
                return RaiseFault(ExceptionVector.UD, 0);
            case Handler.VirtualizationInstruction:
                if (Hooks != null && Intercepted(ref op, InterceptKind.VirtualizationInstruction, op.Immediate, 0)) return _hookRetired;
                return RaiseFault(ExceptionVector.UD, 0);
            default:
                return RaiseFault(ExceptionVector.UD, 0);
        }
    }

    /// <summary>
    /// MONITOR arms address monitoring at DS:rAX (only the segment and paging checks of a read are
    /// visible); MWAIT returns at once, since the optimized state may end on any event and the
    /// simulator models none. Both are CPL-0 instructions here (no ring-3 MONITOR/MWAIT enumerated).
    /// </summary>
    private bool MonitorOrMwait(ref DecodedOp op)
    {
        if (Cpl != 0) return RaiseFault(ExceptionVector.UD, 0);
        if (op.Sub == 0)
        {
            if (Hooks != null && Intercepted(ref op, InterceptKind.Monitor, _r[0], 0)) return _hookRetired;
            if ((uint)_r[1] != 0) return RaiseFault(ExceptionVector.GP, 0);
            var offset = _r[0] & (ulong.MaxValue >> op.AddressShift);
            if (!ReadMem(op.Segment, offset, 1, out _)) return false;
            return Next(ref op);
        }
        if (Hooks != null && Intercepted(ref op, InterceptKind.Mwait, 0, 0)) return _hookRetired;
        // ECX bit 0 (interrupts break out even with IF=0) is the only extension enumerated.
        if (((uint)_r[1] & ~1u) != 0) return RaiseFault(ExceptionVector.GP, 0);
        return Next(ref op);
    }

    /// <summary>The 16-bit register-or-memory source of LMSW, LLDT, LTR, LAR, LSL, VERR and VERW.</summary>
    private bool ReadWordOperand(ref DecodedOp op, out ushort value)
    {
        value = 0;
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = (ushort)GetReg(op.Rm, 2);
            return true;
        }
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 2, out var v)) return false;
        value = (ushort)v;
        return true;
    }

    private void SetEdxEax(ulong value)
    {
        _r[0] = (uint)value;
        _r[2] = value >> 32;
    }

    /// <summary>The time-stamp counter: the cycle clock plus IA32_TSC_ADJUST-style offset.</summary>
    public ulong TimeStampCounter => Cycles + (ulong)TscOffset;

    /// <summary>x87, MMX, SSE and AVX are not implemented yet: #NM when CR0 says the FPU is unavailable, else #UD.</summary>
    private bool FpuUnavailable(ref DecodedOp op)
    {
        if (op.Sub == 1)
        {
            if ((Cr0 & (Registers.Cr0.EM | Registers.Cr0.TS)) != 0) return RaiseFault(ExceptionVector.NM, 0);
            return RaiseFault(ExceptionVector.UD, 0);
        }
        if ((Cr0 & Registers.Cr0.EM) != 0) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr0 & Registers.Cr0.TS) != 0) return RaiseFault(ExceptionVector.NM, 0);
        return RaiseFault(ExceptionVector.UD, 0);
    }

    private bool MoveFromControlRegister(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        ulong value;
        switch (op.Sub)
        {
            case 0: value = Cr0; break;
            case 2: value = Cr2; break;
            case 3: value = Cr3; break;
            case 4: value = Cr4; break;
            case 8 when _bitness == 64: value = Cr8; break;
            default: return RaiseFault(ExceptionVector.UD, 0);
        }
        if (Hooks != null && Intercepted(ref op, InterceptKind.CrRead, op.Sub, op.R)) return _hookRetired;
        _r[op.R] = _bitness == 64 ? value : (uint)value;
        return Next(ref op);
    }

    /// <summary>MOV to CR0/CR2/CR3/CR4/CR8 with the #GP conditions of SDM vol. 2 (MOV—Move to/from Control Registers).</summary>
    private bool MoveToControlRegister(ref DecodedOp op, int cr, ulong value, bool fromLmsw = false)
    {
        if (!RequireCpl0()) return false;
        if (_bitness != 64) value = (uint)value;
        if (cr is not (0 or 2 or 3 or 4 or 8) || (cr == 8 && _bitness != 64)) return RaiseFault(ExceptionVector.UD, 0);
        if (Hooks != null)
        {
            InterceptValue = value;
            if (Intercepted(ref op, InterceptKind.CrWrite, (uint)cr | (fromLmsw ? 0x100UL : 0UL), value)) return _hookRetired;
            value = InterceptValue;
        }
        switch (cr)
        {
            case 0:
            {
                if ((value >> 32) != 0) return RaiseFault(ExceptionVector.GP, 0);
                value |= Registers.Cr0.ET;
                if ((value & Registers.Cr0.PG) != 0 && (value & Registers.Cr0.PE) == 0) return RaiseFault(ExceptionVector.GP, 0);
                if ((value & Registers.Cr0.NW) != 0 && (value & Registers.Cr0.CD) == 0) return RaiseFault(ExceptionVector.GP, 0);
                var enablingPaging = (value & Registers.Cr0.PG) != 0 && (Cr0 & Registers.Cr0.PG) == 0;
                if (enablingPaging && (Efer & Registers.Efer.LME) != 0)
                {
                    if ((Cr4 & Registers.Cr4.PAE) == 0 || _seg[(int)SegmentIndex.CS].Long) return RaiseFault(ExceptionVector.GP, 0);
                }
                if ((value & Registers.Cr0.PG) == 0 && (Cr0 & Registers.Cr0.PG) != 0 && _bitness == 64) return RaiseFault(ExceptionVector.GP, 0);
                if ((value & Registers.Cr0.PG) == 0 && (Cr4 & Registers.Cr4.PCIDE) != 0) return RaiseFault(ExceptionVector.GP, 0);
                var efer = Efer;
                if ((value & Registers.Cr0.PG) != 0 && (efer & Registers.Efer.LME) != 0) efer |= Registers.Efer.LMA;
                else efer &= ~Registers.Efer.LMA;
                var changed = Cr0 ^ value;
                if (PaePaging(value, Cr4, efer) && (changed & (Registers.Cr0.PG | Registers.Cr0.CD | Registers.Cr0.NW)) != 0 && !TryLoadPdptes(Cr3))
                    return RaiseFault(ExceptionVector.GP, 0);
                Cr0 = value & (Registers.Cr0.Defined);
                Efer = efer;
                if ((changed & (Registers.Cr0.PG | Registers.Cr0.WP | Registers.Cr0.PE)) != 0) FlushTranslations();
                AllSegmentsChanged();
                break;
            }
            case 2:
                Cr2 = value;
                break;
            case 3:
            {
                var pcide = (Cr4 & Registers.Cr4.PCIDE) != 0;
                var keepEntries = pcide && (value >> 63) != 0;
                if (InLongMode)
                {
                    var addressBits = value & ~(1UL << 63);
                    if ((addressBits >> MaxPhysicalAddressBits) != 0) return RaiseFault(ExceptionVector.GP, 0);
                    if (pcide) value &= ~(1UL << 63);
                }
                if (PaePaging(Cr0, Cr4, Efer) && !TryLoadPdptes(value)) return RaiseFault(ExceptionVector.GP, 0);
                Cr3 = value;
                UpdateTlbContext();
                if (pcide)
                {
                    // With PCIDs only the new context's entries go, and not even those when bit 63 was set.
                    if (!keepEntries) Tlb.FlushContext(_tlbContext);
                    ClearBlockLookup();
                    _stopBlock = true;
                }
                else
                {
                    Tlb.FlushTag((ulong)_translationTag);
                    ClearBlockLookup();
                    _stopBlock = true;
                }
                break;
            }
            case 4:
            {
                if ((value & ~Registers.Cr4.Supported) != 0) return RaiseFault(ExceptionVector.GP, 0);
                if ((value & Registers.Cr4.VMXE) != 0 && !VmxSupported) return RaiseFault(ExceptionVector.GP, 0);
                if (InLongMode && (value & Registers.Cr4.PAE) == 0) return RaiseFault(ExceptionVector.GP, 0);
                if ((value & Registers.Cr4.PCIDE) != 0 && (Cr4 & Registers.Cr4.PCIDE) == 0 && (!InLongMode || (Cr3 & 0xFFF) != 0))
                    return RaiseFault(ExceptionVector.GP, 0);
                if (PaePaging(Cr0, value, Efer) && !TryLoadPdptes(Cr3)) return RaiseFault(ExceptionVector.GP, 0);
                Cr4 = value;
                UpdateTlbContext();
                FlushTranslations();
                break;
            }
            default:
                if ((value & ~0xFUL) != 0) return RaiseFault(ExceptionVector.GP, 0);
                Cr8 = value;
                break;
        }
        return Next(ref op);
    }

    /// <summary>Whether CR4.VMXE may be set: true once a VMX unit is attached.</summary>
    public bool VmxSupported { get; set; }

    /// <summary>
    /// The fault MOV DR raises before it touches a debug register, or -1: CPL 0 only (#GP); DR4/DR5
    /// alias DR6/DR7 unless CR4.DE is set, when they raise #UD (SDM vol. 2, MOV—Move to/from Debug
    /// Registers). <paramref name="n"/> is the register accessed after aliasing.
    /// </summary>
    private int DebugRegisterFault(ref DecodedOp op, out int n)
    {
        n = op.Sub;
        if (Cpl != 0) return ExceptionVector.GP;
        if (n is 4 or 5)
        {
            if ((Cr4 & Registers.Cr4.DE) != 0) return ExceptionVector.UD;
            n += 2;
        }
        return -1;
    }

    /// <summary>
    /// Offers MOV DR to the unit before its privilege and CR4.DE faults: a VMX MOV-DR exit takes
    /// priority over them (SDM vol. 3, 26.1.3), and the unit declines when it checks them first.
    /// </summary>
    private bool DebugRegisterAccessIntercepted(ref DecodedOp op, bool write, int fault, int gpr)
    {
        var info = (ulong)op.Sub | (write ? 0x100UL : 0) | (fault >= 0 ? 0x200UL : 0);
        return Intercepted(ref op, InterceptKind.DrAccess, info, (ulong)gpr);
    }

    private bool MoveFromDebugRegister(ref DecodedOp op)
    {
        if (op.Sub > 7) return RaiseFault(ExceptionVector.UD, 0);
        var fault = DebugRegisterFault(ref op, out var n);
        if (Hooks != null && DebugRegisterAccessIntercepted(ref op, write: false, fault, op.R)) return _hookRetired;
        if (fault >= 0) return RaiseFault(fault, 0);
        _r[op.R] = _bitness == 64 ? _dr[n] : (uint)_dr[n];
        return Next(ref op);
    }

    private bool MoveToDebugRegister(ref DecodedOp op)
    {
        if (op.Sub > 7) return RaiseFault(ExceptionVector.UD, 0);
        var fault = DebugRegisterFault(ref op, out var n);
        if (Hooks != null && DebugRegisterAccessIntercepted(ref op, write: true, fault, op.Rm)) return _hookRetired;
        if (fault >= 0) return RaiseFault(fault, 0);
        var value = _bitness == 64 ? _r[op.Rm] : (uint)_r[op.Rm];
        if (n is 6 or 7 && (value >> 32) != 0) return RaiseFault(ExceptionVector.GP, 0);
        _dr[n] = n switch
        {
            6 => (value & 0x1E00F) | 0xFFFF0FF0,
            7 => (value & 0xFFFF2BFF) | 0x400,
            _ => value,
        };
        return Next(ref op);
    }

    public ulong GetDebugRegister(int n) => _dr[n];

    public void SetDebugRegister(int n, ulong value) => _dr[n] = value;

    private bool LoadDescriptorTable(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        // The intercept precedes the operand's memory access and value checks (APM vol. 2, table 15-7; SDM vol. 3, 26.1.1).
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable, 0, 0)) return _hookRetired;
        var ea = EffectiveAddress(ref op);
        if (!ReadMem(op.Segment, ea, 2, out var limit)) return false;
        var baseSize = _bitness == 64 ? 8 : 4;
        if (!ReadMem(op.Segment, (ea + 2) & (ulong.MaxValue >> op.AddressShift), baseSize, out var baseAddress)) return false;
        if (op.Size == 2) baseAddress &= 0xFFFFFF;
        if (_bitness == 64 && !IsCanonical(baseAddress)) return RaiseFault(ExceptionVector.GP, 0);
        var table = new DescriptorTableRegister { Base = baseAddress, Limit = (ushort)limit };
        if (op.Handler == Handler.Lgdt) Gdtr = table;
        else Idtr = table;
        return Next(ref op);
    }

    private bool StoreDescriptorTable(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable, 0, 0)) return _hookRetired;
        var table = op.Handler == Handler.Sgdt ? Gdtr : Idtr;
        var ea = EffectiveAddress(ref op);
        var baseSize = _bitness == 64 ? 8 : 4;
        var baseAddress = op.Size == 2 ? table.Base & 0xFFFFFF : table.Base;
        if (!ToLinear(op.Segment, ea, 2 + baseSize, AccessWrite, out var linear) || !ProbeWrite(linear, 2 + baseSize)) return false;
        if (!WriteMem(op.Segment, ea, 2, table.Limit)) return false;
        if (!WriteMem(op.Segment, (ea + 2) & (ulong.MaxValue >> op.AddressShift), baseSize, baseAddress)) return false;
        return Next(ref op);
    }

    /// <summary>LLDT and LTR (SDM vol. 2): a GDT descriptor of an LDT, or of an available TSS that becomes busy.</summary>
    private bool LoadSystemSegment(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if (!RequireCpl0()) return false;
        if (!ReadWordOperand(ref op, out var selector)) return false;
        var isLdt = op.Handler is Handler.LldtR or Handler.LldtM;
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable, 0, selector)) return _hookRetired;
        var error = (uint)(selector & 0xFFFC);
        if ((selector & 0xFFFC) == 0)
        {
            if (!isLdt) return RaiseFault(ExceptionVector.GP, 0);
            Ldtr = new SegmentRegister { Selector = selector, Attributes = SegmentRegister.UnusableBit };
            return Next(ref op);
        }
        if ((selector & 4) != 0) return RaiseFault(ExceptionVector.GP, error);
        ulong desc, high = 0;
        if (InLongMode)
        {
            if (!ReadDescriptor16(selector, out desc, out high, ExceptionVector.GP, 0)) return false;
        }
        else if (!ReadDescriptor(selector, out desc, ExceptionVector.GP, 0)) return false;
        var seg = DescriptorToSegment(selector, desc);
        if (!seg.IsSystem) return RaiseFault(ExceptionVector.GP, error);
        if (isLdt)
        {
            if (seg.Type != 2) return RaiseFault(ExceptionVector.GP, error);
        }
        else if (InLongMode ? seg.Type != 9 : seg.Type is not (1 or 9)) return RaiseFault(ExceptionVector.GP, error);
        if (InLongMode && ((high >> 40) & 0x1F) != 0) return RaiseFault(ExceptionVector.GP, error);
        if (!seg.Present) return RaiseFault(ExceptionVector.NP, error);
        if (InLongMode)
        {
            seg.Base |= (high & 0xFFFFFFFF) << 32;
            if (!IsCanonical(seg.Base)) return RaiseFault(ExceptionVector.GP, error);
        }
        if (isLdt)
        {
            Ldtr = seg;
        }
        else
        {
            if (!WriteSystem(Gdtr.Base + (ulong)(selector & 0xFFF8) + 5, 1, (desc >> 40) | 2UL)) return false;
            seg.Attributes |= 2;
            Tr = seg;
        }
        return Next(ref op);
    }

    /// <summary>
    /// The descriptor named by a selector as LAR/LSL/VERR/VERW see it: readable when the selector is
    /// not null, lies inside its table and the descriptor is visible at CPL and RPL.
    /// </summary>
    private bool TryVisibleDescriptor(ushort selector, out ulong desc)
    {
        desc = 0;
        if ((selector & 0xFFFC) == 0) return false;
        var index = (ulong)(selector & 0xFFF8);
        ulong tableBase, limit;
        if ((selector & 4) != 0)
        {
            if (Ldtr.Unusable) return false;
            tableBase = Ldtr.Base;
            limit = Ldtr.Limit;
        }
        else
        {
            tableBase = Gdtr.Base;
            limit = Gdtr.Limit;
        }
        if (index + 7 > limit) return false;
        return ReadSystem(tableBase + index, 8, out desc);
    }

    private bool LoadAccessRightsOrLimit(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if (!ReadWordOperand(ref op, out var selector)) return false;
        var pending = _pendingVector;
        var ok = TryVisibleDescriptor(selector, out var desc);
        if (_pendingVector != pending) return false;
        if (ok)
        {
            var seg = DescriptorToSegment(selector, desc);
            int type = seg.Type;
            bool validType;
            if (!seg.IsSystem) validType = true;
            else if (op.Sub == 0) validType = InLongMode ? type is 2 or 9 or 0xB or 0xC : type is 1 or 2 or 3 or 4 or 5 or 9 or 0xB or 0xC;
            else validType = InLongMode ? type is 2 or 9 or 0xB : type is 1 or 2 or 3 or 9 or 0xB;
            var conformingCode = !seg.IsSystem && seg.IsCode && (type & 4) != 0;
            if (validType && (conformingCode || (seg.Dpl >= Cpl && seg.Dpl >= (selector & 3))))
            {
                var result = op.Sub == 0 ? (desc >> 32) & 0x00F0FF00 : seg.Limit;
                SetReg(op.R, op.Size, op.Size == 2 ? result & 0xFFFF : result);
                MaterializeFlags();
                _flags |= Rflags.ZF;
                return Next(ref op);
            }
        }
        MaterializeFlags();
        _flags &= ~Rflags.ZF;
        return Next(ref op);
    }

    private bool VerifySegment(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if (!ReadWordOperand(ref op, out var selector)) return false;
        var pending = _pendingVector;
        var ok = TryVisibleDescriptor(selector, out var desc);
        if (_pendingVector != pending) return false;
        var result = false;
        if (ok)
        {
            var seg = DescriptorToSegment(selector, desc);
            if (!seg.IsSystem)
            {
                var conformingCode = seg.IsCode && (seg.Type & 4) != 0;
                var visible = conformingCode || (seg.Dpl >= Cpl && seg.Dpl >= (selector & 3));
                result = visible && (op.Sub == 0 ? !seg.IsCode || (seg.Type & 2) != 0 : !seg.IsCode && (seg.Type & 2) != 0);
            }
        }
        MaterializeFlags();
        _flags = result ? _flags | Rflags.ZF : _flags & ~Rflags.ZF;
        return Next(ref op);
    }

    private bool AdjustRpl(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        var src = GetReg(op.R, 2);
        ulong dst;
        ulong linear = 0;
        if (op.Handler == Handler.ArplM)
        {
            if (!ToLinear(op.Segment, EffectiveAddress(ref op), 2, AccessRead | AccessWrite, out linear)) return false;
            if (!ReadForWrite(linear, 2, out dst)) return false;
        }
        else dst = GetReg(op.Rm, 2);
        MaterializeFlags();
        if ((dst & 3) < (src & 3))
        {
            dst = (dst & ~3UL) | (src & 3);
            if (op.Handler == Handler.ArplM) { if (!WriteLinear(linear, 2, dst)) return false; }
            else SetReg(op.Rm, 2, dst);
            _flags |= Rflags.ZF;
        }
        else _flags &= ~Rflags.ZF;
        return Next(ref op);
    }
}
