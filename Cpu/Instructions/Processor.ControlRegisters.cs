using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>The control registers as instructions reach them (SDM vol. 3, 2.5): MOV to and from CR0–CR4 and CR8, CLTS, LMSW, SMSW.</summary>
public sealed unsafe partial class Processor
{
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
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.CrRead) { ControlRegisterRead = new(op.Sub, op.R, Smsw: false) })) return _hookRetired;
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
            var intercept = new Intercept(InterceptKind.CrWrite)
            {
                ControlRegisterWrite = new(cr, value, fromLmsw ? ControlRegisterWriteSource.Lmsw : ControlRegisterWriteSource.MovToCr),
            };
            if (Intercepted(ref op, ref intercept)) return _hookRetired;
            value = intercept.ControlRegisterWrite.Value;
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
                    // Bit 63 asks to keep the PCID's entries only under CR4.PCIDE and is never stored;
                    // otherwise it is reserved like bits 62:MAXPHYADDR (SDM vol. 3, 4.10.4.1; vol. 2, MOV CR).
                    var checkedBits = keepEntries ? value & ~(1UL << 63) : value;
                    if ((checkedBits >> MaxPhysicalAddressBits) != 0) return RaiseFault(ExceptionVector.GP, 0);
                    value &= ~(1UL << 63);
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
                // CR4.DE turns R/W = 10b into I/O breakpoints.
                BreakpointsChanged();
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

    private bool ClearTaskSwitched(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        if (Hooks != null)
        {
            var intercept = new Intercept(InterceptKind.CrWrite) { ControlRegisterWrite = new(0, Cr0 & ~Registers.Cr0.TS, ControlRegisterWriteSource.Clts) };
            if (Intercepted(ref op, ref intercept)) return _hookRetired;
            // Under a CR0 guest/host mask CLTS may leave TS alone; the unit says so through the value.
            Cr0 = (Cr0 & ~Registers.Cr0.TS) | (intercept.ControlRegisterWrite.Value & Registers.Cr0.TS);
            return Next(ref op);
        }
        Cr0 &= ~Registers.Cr0.TS;
        return Next(ref op);
    }

    private bool LoadMachineStatusWord(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        if (!ReadWordOperand(ref op, out var v)) return false;
        // LMSW changes PE, MP, EM and TS, and can set PE but never clear it.
        var cr0 = (Cr0 & ~0xEUL) | ((ulong)v & 0xF) | (Cr0 & Registers.Cr0.PE);
        return MoveToControlRegister(ref op, 0, cr0, fromLmsw: true);
    }

    private bool StoreMachineStatusWordToRegister(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.CrRead) { ControlRegisterRead = new(0, op.Rm, Smsw: true) })) return _hookRetired;
        SetReg(op.Rm, op.Size, Cr0 & OperandMask(op.Size));
        return Next(ref op);
    }

    private bool StoreMachineStatusWordToMemory(ref DecodedOp op)
    {
        if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.CrRead) { ControlRegisterRead = new(0, -1, Smsw: true) })) return _hookRetired;
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, Cr0)) return false;
        return Next(ref op);
    }
}
