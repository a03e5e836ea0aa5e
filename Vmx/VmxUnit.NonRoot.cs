using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Vmx;

/// <summary>VMX non-root operation (SDM vol. 3, chapter 26): which guest events cause VM exits and how instructions behave otherwise.</summary>
public sealed partial class VmxUnit
{
    private bool _iretUnblockedNmi;
    private bool _nmiBlockingHeld;
    private ulong _iretRip;
    private ulong _iretRetired;

    private bool NonRootIntercept(in Intercept e)
    {
        switch (e.Kind)
        {
            case InterceptKind.Cpuid: return InstructionExit(VmExitReason.Cpuid, 0);
            case InterceptKind.Invd: return InstructionExit(VmExitReason.Invd, 0);
            case InterceptKind.Hlt: return Has(_proc, ProcessorBasedControls.HltExiting) && InstructionExit(VmExitReason.Hlt, 0);
            case InterceptKind.Invlpg: return Has(_proc, ProcessorBasedControls.InvlpgExiting) && InstructionExit(VmExitReason.Invlpg, e.LinearAddress);
            case InterceptKind.Rdpmc: return Has(_proc, ProcessorBasedControls.RdpmcExiting) && InstructionExit(VmExitReason.Rdpmc, 0);
            case InterceptKind.Rdtsc: return Has(_proc, ProcessorBasedControls.RdtscExiting) && InstructionExit(VmExitReason.Rdtsc, 0);
            case InterceptKind.Rdtscp:
                if (!Has(_proc2, SecondaryProcessorBasedControls.EnableRdtscp)) return Fault(ExceptionVector.UD);
                return Has(_proc, ProcessorBasedControls.RdtscExiting) && InstructionExit(VmExitReason.Rdtscp, 0);
            case InterceptKind.Rdmsr: return MsrExits(e.Msr.Index, write: false) && InstructionExit(VmExitReason.Rdmsr, 0);
            case InterceptKind.Wrmsr: return MsrExits(e.Msr.Index, write: true) && InstructionExit(VmExitReason.Wrmsr, 0);
            case InterceptKind.IoIn or InterceptKind.IoOut: return IoAccess(e.Io.Port, e.Io.Size, e.Io.String, e.Io.In);
            case InterceptKind.CrRead: return !e.ControlRegisterRead.Smsw && CrRead(e.ControlRegisterRead.Register, e.ControlRegisterRead.Gpr);
            case InterceptKind.CrWrite: return CrWrite(e.ControlRegisterWrite);
            case InterceptKind.DrAccess:
                if (!Has(_proc, ProcessorBasedControls.MovDrExiting)) return false;
                // Qualification (table 28-4): the DR number, direction (1 = from DR) in bit 4, the GPR in bits 11:8.
                var dr = e.DebugRegisterAccess;
                return InstructionExit(VmExitReason.MovDr, ((ulong)dr.Register & 7) | (dr.Write ? 0 : 0x10UL) | ((ulong)dr.Gpr << 8));
            case InterceptKind.Pause: return Has(_proc, ProcessorBasedControls.PauseExiting) && InstructionExit(VmExitReason.Pause, 0);
            case InterceptKind.Wbinvd: return Has(_proc2, SecondaryProcessorBasedControls.WbinvdExiting) && InstructionExit(VmExitReason.Wbinvd, 0);
            case InterceptKind.Xsetbv: return InstructionExit(VmExitReason.Xsetbv, 0);
            case InterceptKind.Monitor: return Has(_proc, ProcessorBasedControls.MonitorExiting) && InstructionExit(VmExitReason.Monitor, 0);
            case InterceptKind.Mwait: return Has(_proc, ProcessorBasedControls.MwaitExiting) && InstructionExit(VmExitReason.Mwait, 0);
            case InterceptKind.Invpcid:
                if (!Has(_proc2, SecondaryProcessorBasedControls.EnableInvpcid)) return Fault(ExceptionVector.UD);
                if (!Has(_proc, ProcessorBasedControls.InvlpgExiting)) return false;
                // Reg2 (bits 31:28) names the register holding the INVPCID type (table 28-13).
                return MemoryInstructionExit(VmExitReason.Invpcid, _intercept.Instruction, (uint)Math.Max(_intercept.Instruction.Register, 0) << 28);
            case InterceptKind.DescriptorTable: return DescriptorTableAccess();
            case InterceptKind.Exception: return ExceptionExit(e.Exception.Vector, e.Exception.ErrorCode, e.Exception.Type == EventType.SoftwareException, e.Exception.Type == EventType.PrivilegedSoftwareException);
            case InterceptKind.Nmi:
                if (!Has(_pin, PinBasedControls.NmiExiting))
                {
                    NoteEventDelivered();
                    return false;
                }
                BeginExit();
                _current![VmcsField.VmExitInterruptionInformation] = 0x80000000u | (2u << 8) | NmiVector;
                Exit(VmExitReason.ExceptionOrNmi, 0);
                _cpu.NmiBlocked = true;
                return true;
            case InterceptKind.ExternalInterrupt: return ExternalInterrupt();
            case InterceptKind.TripleFault:
                BeginExit();
                Exit(VmExitReason.TripleFault, 0);
                return true;
            case InterceptKind.VirtualizationInstruction: return VirtualizationInstructionExit(e.VirtualizationInstruction);
            case InterceptKind.Iret:
                NoteIret();
                return false;
            case InterceptKind.TaskSwitch:
            {
                BeginExit();
                // Qualification (table 28-2): the TSS selector, the source in bits 31:30 (0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT).
                var ts = e.TaskSwitch;
                var source = ts.Source switch { TaskSwitchSource.Call => 0UL, TaskSwitchSource.Iret => 1UL, TaskSwitchSource.Jump => 2UL, _ => 3UL };
                if (source != 3) _current![VmcsField.VmExitInstructionLength] = (ulong)ts.InstructionLength;
                Exit(VmExitReason.TaskSwitch, ts.Selector | (source << 30));
                return true;
            }
            case InterceptKind.Init:
                BeginExit();
                Exit(VmExitReason.InitSignal, 0);
                return true;
            case InterceptKind.StartupIpi:
                // Only a guest in the wait-for-SIPI activity state receives one; the qualification is its vector (28.2.1).
                BeginExit();
                Exit(VmExitReason.StartupIpi, e.Vector);
                return true;
            case InterceptKind.Xsaves or InterceptKind.Xrstors: return XsavesOrXrstors(e.Kind == InterceptKind.Xsaves);
            case InterceptKind.Rdrand: return Has(_proc2, SecondaryProcessorBasedControls.RdrandExiting) && RandomNumberExit(VmExitReason.Rdrand);
            case InterceptKind.Rdseed: return Has(_proc2, SecondaryProcessorBasedControls.RdseedExiting) && RandomNumberExit(VmExitReason.Rdseed);
            case InterceptKind.SecondLevelFault: return SecondLevelFault();
            case InterceptKind.EventWindow: return EventWindow();
            default: return false;
        }
    }

    /// <summary>
    /// XSAVES and XRSTORS (SDM vol. 3, 26.3 and 26.1.3): #UD while "enable XSAVES/XRSTORS" is 0; otherwise a VM exit
    /// when EDX:EAX AND IA32_XSS AND the XSS-exiting bitmap is not 0, with the instruction information of table 28-13
    /// and the displacement as qualification. The #GP(0) at CPL &gt; 0 is a privilege fault and comes before the exit.
    /// </summary>
    private bool XsavesOrXrstors(bool save)
    {
        if (!Has(_proc2, SecondaryProcessorBasedControls.EnableXsavesXrstors)) return Fault(ExceptionVector.UD);
        if (_cpu.Cpl != 0) return false;
        var mask = ((_cpu.Rdx & 0xFFFF_FFFF) << 32) | (_cpu.Rax & 0xFFFF_FFFF);
        if ((mask & _cpu.Xss & _current![VmcsField.XssExitingBitmap]) == 0) return false;
        return MemoryInstructionExit(save ? VmExitReason.Xsaves : VmExitReason.Xrstors, _intercept.Instruction, 0);
    }

    /// <summary>An exit caused by the instruction being executed: length and qualification recorded, RIP left at the instruction.</summary>
    private bool InstructionExit(VmExitReason reason, ulong qualification)
    {
        BeginExit();
        _current![VmcsField.VmExitInstructionLength] = (ulong)_intercept.Instruction.Length;
        Exit(reason, qualification);
        return true;
    }

    /// <summary>RDRAND or RDSEED exiting: the instruction information names the destination register (bits 6:3) and operand size (bits 12:11); the qualification is 0 (SDM vol. 3, 28.2.5).</summary>
    private bool RandomNumberExit(VmExitReason reason)
    {
        var ii = _intercept.Instruction;
        BeginExit();
        var v = _current!;
        v[VmcsField.VmExitInstructionLength] = (ulong)ii.Length;
        var size = ii.OperandSize switch { 2 => 0u, 4 => 1u, _ => 2u };
        v[VmcsField.VmExitInstructionInformation] = ((uint)Math.Max(ii.Register, 0) << 3) | (size << 11);
        Exit(reason, 0);
        return true;
    }

    /// <summary>
    /// The addressing part of the VM-exit instruction-information field shared by the instructions
    /// with a memory operand (SDM vol. 3, tables 28-9 to 28-14): scaling, address size, segment, index, base.
    /// </summary>
    private static uint AddressingInformation(in InterceptedInstruction ii)
    {
        var scale = ii.Scale switch { 2 => 1u, 4 => 2u, 8 => 3u, _ => 0u };
        var addressSize = ii.AddressSize switch { 16 => 0u, 32 => 1u, _ => 2u };
        var info = (addressSize << 7) | ((uint)ii.Segment << 15);
        if (!ii.HasMemoryOperand) return info;
        info |= ii.IndexRegister >= 0 ? ((uint)ii.IndexRegister << 18) | scale : 1u << 22;
        info |= ii.BaseRegister >= 0 ? (uint)ii.BaseRegister << 23 : 1u << 27;
        return info;
    }

    /// <summary>Exit of an instruction with a memory operand: qualification is the displacement (27.2.1), the information field as given.</summary>
    private bool MemoryInstructionExit(VmExitReason reason, in InterceptedInstruction ii, uint extraInfo)
    {
        BeginExit();
        var v = _current!;
        v[VmcsField.VmExitInstructionLength] = (ulong)ii.Length;
        v[VmcsField.VmExitInstructionInformation] = AddressingInformation(ii) | extraInfo;
        Exit(reason, ii.HasMemoryOperand ? Displacement(ii) : 0);
        return true;
    }

    /// <summary>The displacement of a memory operand sign-extended to 64 bits from the address size (28.2.1).</summary>
    private static ulong Displacement(in InterceptedInstruction ii) => ii.AddressSize switch
    {
        16 => (ulong)(long)(short)ii.Displacement,
        32 => (ulong)(long)(int)ii.Displacement,
        _ => (ulong)ii.Displacement,
    };

    private bool VirtualizationInstructionExit(Code code)
    {
        var m = code.Mnemonic();
        var ii = _intercept.Instruction;
        if (m == Mnemonic.Getsec)
        {
            // CR4.SMXE cannot be set on this processor, and the #UD it causes comes before the exit.
            return Fault(ExceptionVector.UD);
        }
        var reason = m switch
        {
            Mnemonic.Vmcall => VmExitReason.Vmcall,
            Mnemonic.Vmclear => VmExitReason.Vmclear,
            Mnemonic.Vmlaunch => VmExitReason.Vmlaunch,
            Mnemonic.Vmptrld => VmExitReason.Vmptrld,
            Mnemonic.Vmptrst => VmExitReason.Vmptrst,
            Mnemonic.Vmread => VmExitReason.Vmread,
            Mnemonic.Vmresume => VmExitReason.Vmresume,
            Mnemonic.Vmwrite => VmExitReason.Vmwrite,
            Mnemonic.Vmxoff => VmExitReason.Vmxoff,
            Mnemonic.Vmxon => VmExitReason.Vmxon,
            Mnemonic.Invept => VmExitReason.Invept,
            Mnemonic.Invvpid => VmExitReason.Invvpid,
            _ => (VmExitReason)0xFFFF,
        };
        if (reason == (VmExitReason)0xFFFF) return Fault(ExceptionVector.UD);
        // VMCALL exits in every mode; the others keep their #UD for real, virtual-8086 and compatibility mode (VMCALL "Operation").
        if (m == Mnemonic.Vmcall) return InstructionExit(reason, 0);
        var vector = ModeFault(m);
        if (vector >= 0) return Fault(vector);
        switch (m)
        {
            case Mnemonic.Vmread or Mnemonic.Vmwrite:
            {
                // Register 1 is the r/m operand when it is a register, register 2 the other one (table 28-14).
                var rm = m == Mnemonic.Vmread ? ii.Register : ii.RmRegister;
                var reg = ii.HasMemoryOperand ? ii.Register : m == Mnemonic.Vmread ? ii.RmRegister : ii.Register;
                var extra = (uint)reg << 28;
                if (!ii.HasMemoryOperand) extra |= ((uint)rm << 3) | (1u << 10);
                return MemoryInstructionExit(reason, ii, extra);
            }
            case Mnemonic.Invept or Mnemonic.Invvpid:
                return MemoryInstructionExit(reason, ii, (uint)ii.Register << 28);
            case Mnemonic.Vmclear or Mnemonic.Vmptrld or Mnemonic.Vmptrst or Mnemonic.Vmxon:
                return MemoryInstructionExit(reason, ii, 0);
            default:
                return InstructionExit(reason, 0);
        }
    }

    /// <summary>RDMSR/WRMSR exit unless the MSR bitmaps say otherwise (26.1.3, 25.6.9).</summary>
    private bool MsrExits(uint index, bool write)
    {
        if (!Has(_proc, ProcessorBasedControls.UseMsrBitmaps)) return true;
        ulong offset;
        if (index <= 0x1FFF) offset = 0;
        else if (index - 0xC0000000 <= 0x1FFF) offset = 0x400;
        else return true;
        if (write) offset += 0x800;
        var bit = index & 0x1FFF;
        var b = _memory.Read(_current![VmcsField.MsrBitmap] + offset + bit / 8, 1);
        return ((b >> (int)(bit % 8)) & 1) != 0;
    }

    /// <summary>IN, INS, OUT, OUTS: unconditional I/O exiting or the I/O bitmaps (26.1.3); qualification per table 28-5.</summary>
    private bool IoAccess(ushort port, int size, bool isString, bool isIn)
    {
        bool exits;
        if (Has(_proc, ProcessorBasedControls.UseIoBitmaps))
        {
            exits = false;
            for (var i = 0; i < size && !exits; i++)
            {
                var p = port + i;
                if (p > 0xFFFF) exits = true;
                else
                {
                    var bitmap = _current![p < 0x8000 ? VmcsField.IoBitmapA : VmcsField.IoBitmapB];
                    var bit = p & 0x7FFF;
                    exits = ((_memory.Read(bitmap + (ulong)(bit / 8), 1) >> (bit % 8)) & 1) != 0;
                }
            }
        }
        else exits = Has(_proc, ProcessorBasedControls.UnconditionalIoExiting);
        if (!exits) return false;
        var ii = _intercept.Instruction;
        var immediate = ii.Code is Code.In_AL_imm8 or Code.In_AX_imm8 or Code.In_EAX_imm8 or Code.Out_imm8_AL or Code.Out_imm8_AX or Code.Out_imm8_EAX;
        var qualification = (ulong)(uint)(size - 1) | (isIn ? 8UL : 0) | (isString ? 0x10UL : 0) | (isString && ii.Rep ? 0x20UL : 0)
            | (immediate ? 0x40UL : 0) | ((ulong)port << 16);
        BeginExit();
        var v = _current!;
        v[VmcsField.VmExitInstructionLength] = (ulong)ii.Length;
        if (isString)
        {
            var addressSize = ii.AddressSize switch { 16 => 0u, 32 => 1u, _ => 2u };
            var segment = isIn ? SegmentIndex.ES : ii.Segment;
            v[VmcsField.VmExitInstructionInformation] = (addressSize << 7) | ((uint)segment << 15);
            var mask = ii.AddressSize == 64 ? ulong.MaxValue : ii.AddressSize == 32 ? 0xFFFFFFFFUL : 0xFFFFUL;
            var offset = (isIn ? _cpu.Rdi : _cpu.Rsi) & mask;
            var segBase = _cpu.CodeBitness == 64 && segment < SegmentIndex.FS ? 0 : _cpu.GetSegment(segment).Base;
            v[VmcsField.GuestLinearAddress] = _cpu.CodeBitness == 64 ? segBase + offset : (uint)(segBase + offset);
        }
        Exit(VmExitReason.IoInstruction, qualification);
        return true;
    }

    /// <summary>MOV from CR0/CR4 reads the shadow for host-owned bits; CR3 and CR8 stores may exit; CR8 reads the virtual TPR (26.3, 30.3).</summary>
    private bool CrRead(int cr, int gpr)
    {
        ulong value;
        switch (cr)
        {
            case 0: value = (_cpu.Cr0 & ~_cr0Mask) | (_cr0Shadow & _cr0Mask); break;
            case 4: value = (_cpu.Cr4 & ~_cr4Mask) | (_cr4Shadow & _cr4Mask); break;
            case 3:
                return Has(_proc, ProcessorBasedControls.Cr3StoreExiting) && InstructionExit(VmExitReason.ControlRegisterAccess, 3 | (1UL << 4) | ((ulong)gpr << 8));
            case 8:
                if (Has(_proc, ProcessorBasedControls.Cr8StoreExiting)) return InstructionExit(VmExitReason.ControlRegisterAccess, 8 | (1UL << 4) | ((ulong)gpr << 8));
                if (!Has(_proc, ProcessorBasedControls.UseTprShadow)) return false;
                value = _memory.Read(_current![VmcsField.VirtualApicAddress] + 0x80, 1) >> 4;
                break;
            default: return false;
        }
        _cpu.SetGpr(gpr, _cpu.CodeBitness == 64 ? value : (uint)value);
        _cpu.CompleteInstruction();
        return true;
    }

    /// <summary>MOV to CR, CLTS and LMSW under the guest/host masks, CR3-target values, CR8 exiting and TPR shadow (26.1.3, 26.3).</summary>
    private bool CrWrite(ControlRegisterWrite write)
    {
        var cr = write.Register;
        var value = write.Value;
        var lmsw = write.Source == ControlRegisterWriteSource.Lmsw;
        var clts = write.Source == ControlRegisterWriteSource.Clts;
        var ii = _intercept.Instruction;
        var gpr = (ulong)Math.Max(ii.RmRegister, 0);
        if (clts)
        {
            if ((_cr0Mask & _cr0Shadow & Cr0.TS) != 0) return InstructionExit(VmExitReason.ControlRegisterAccess, 2UL << 4);
            if ((_cr0Mask & Cr0.TS) != 0) _crWriteValue = _cpu.Cr0;
            return false;
        }
        if (lmsw)
        {
            var source = value & 0xF;
            var exits = ((_cr0Mask & 1) != 0 && (_cr0Shadow & 1) == 0 && (source & 1) != 0) || ((_cr0Mask & 0xE & (source ^ _cr0Shadow)) != 0);
            if (exits)
            {
                BeginExit();
                var v = _current!;
                v[VmcsField.VmExitInstructionLength] = (ulong)ii.Length;
                if (ii.HasMemoryOperand) v[VmcsField.GuestLinearAddress] = _cpu.OperandLinearAddress();
                Exit(VmExitReason.ControlRegisterAccess, (3UL << 4) | (ii.HasMemoryOperand ? 0x40UL : 0) | (source << 16));
                return true;
            }
            _crWriteValue = (value & ~_cr0Mask) | (_cpu.Cr0 & _cr0Mask);
            return false;
        }
        switch (cr)
        {
            case 0:
                if (((value ^ _cr0Shadow) & _cr0Mask) != 0) return InstructionExit(VmExitReason.ControlRegisterAccess, gpr << 8);
                value = (value & ~_cr0Mask) | (_cpu.Cr0 & _cr0Mask);
                var fixed0 = Has(_proc2, SecondaryProcessorBasedControls.UnrestrictedGuest) ? VmxCapability.Cr0Fixed0 & ~(Cr0.PE | Cr0.PG) : VmxCapability.Cr0Fixed0;
                if (!VmxCapability.Cr0Allowed(value, fixed0)) return Fault(ExceptionVector.GP);
                _crWriteValue = value;
                return false;
            case 4:
                if (((value ^ _cr4Shadow) & _cr4Mask) != 0) return InstructionExit(VmExitReason.ControlRegisterAccess, 4 | (gpr << 8));
                value = (value & ~_cr4Mask) | (_cpu.Cr4 & _cr4Mask);
                if (!VmxCapability.Cr4Allowed(value)) return Fault(ExceptionVector.GP);
                _crWriteValue = value;
                return false;
            case 3:
            {
                if (!Has(_proc, ProcessorBasedControls.Cr3LoadExiting)) return false;
                var v = _current!;
                var count = v[VmcsField.Cr3TargetCount];
                for (var i = 0; i < (int)count; i++)
                    if (v[(VmcsField)((uint)VmcsField.Cr3TargetValue0 + (uint)i * 2)] == value) return false;
                return InstructionExit(VmExitReason.ControlRegisterAccess, 3 | (gpr << 8));
            }
            case 8:
            {
                if (Has(_proc, ProcessorBasedControls.Cr8LoadExiting)) return InstructionExit(VmExitReason.ControlRegisterAccess, 8 | (gpr << 8));
                if (!Has(_proc, ProcessorBasedControls.UseTprShadow)) return false;
                var v = _current!;
                _memory.Write(v[VmcsField.VirtualApicAddress] + 0x80, 4, (value & 0xF) << 4);
                _cpu.CompleteInstruction();
                // TPR-below-threshold is trap-like: the guest RIP saved is past the MOV (30.1.2).
                if ((value & 0xF) < (v[VmcsField.TprThreshold] & 0xF))
                {
                    // The MOV's single step is pending at this trap-like exit and saved with it (27.3.4).
                    if (SingleStepPending)
                    {
                        _heldDebugExceptions |= PendingBs;
                        _dropSingleStep = true;
                    }
                    BeginExit();
                    Exit(VmExitReason.TprBelowThreshold, 0);
                }
                return true;
            }
            default: return false;
        }
    }

    /// <summary>LGDT, LIDT, SGDT, SIDT, LLDT, LTR, SLDT, STR under descriptor-table exiting (exit reasons 46 and 47, tables 28-10 and 28-11).</summary>
    private bool DescriptorTableAccess()
    {
        if (!Has(_proc2, SecondaryProcessorBasedControls.DescriptorTableExiting)) return false;
        var ii = _intercept.Instruction;
        var m = ii.Code.Mnemonic();
        switch (m)
        {
            case Mnemonic.Sgdt or Mnemonic.Sidt or Mnemonic.Lgdt or Mnemonic.Lidt:
            {
                var identity = m switch { Mnemonic.Sgdt => 0u, Mnemonic.Sidt => 1u, Mnemonic.Lgdt => 2u, _ => 3u };
                var operandSize = ii.OperandSize == 2 ? 0u : 1u;
                return MemoryInstructionExit(VmExitReason.GdtrIdtrAccess, ii, (operandSize << 11) | (identity << 28));
            }
            default:
            {
                var identity = m switch { Mnemonic.Sldt => 0u, Mnemonic.Str => 1u, Mnemonic.Lldt => 2u, _ => 3u };
                var extra = identity << 28;
                if (!ii.HasMemoryOperand) extra |= ((uint)Math.Max(ii.RmRegister, 0) << 3) | (1u << 10);
                return MemoryInstructionExit(VmExitReason.LdtrTrAccess, ii, extra);
            }
        }
    }

    /// <summary>An exception under the exception bitmap and, for #PF, the error-code mask and match (26.2, 25.6.3); qualification per 28.2.1.</summary>
    private bool ExceptionExit(int vector, uint errorCode, bool software, bool privileged)
    {
        if (vector == ExceptionVector.DB && !software && !privileged && MtfOvertakesSingleStep()) return true;
        bool exits;
        if (vector == ExceptionVector.PF)
        {
            var bit = (_exceptionBitmap & (1u << 14)) != 0;
            exits = ((errorCode & _pfecMask) == _pfecMatch) == bit;
        }
        else exits = (_exceptionBitmap & (1u << vector)) != 0;
        if (!exits)
        {
            NoteEventDelivered();
            return false;
        }
        var type = software ? EventType.SoftwareException : privileged ? EventType.PrivilegedSoftwareException : EventType.HardwareException;
        // Only an exception that would push an error code reports one: none in real mode (28.2.2).
        var hasError = type == EventType.HardwareException && ExceptionVector.HasErrorCode(vector) && _cpu.InProtectedMode;
        BeginExit();
        var v = _current!;
        var info = 0x80000000u | (uint)vector | (VmxInterruptionType.Of(type) << 8) | (hasError ? 0x800u : 0);
        if (IretUnblockedNmi()) info |= IretNmiUnblocking();
        v[VmcsField.VmExitInterruptionInformation] = info;
        v[VmcsField.VmExitInterruptionErrorCode] = hasError ? errorCode : 0;
        if (type != EventType.HardwareException) v[VmcsField.VmExitInstructionLength] = (ulong)_intercept.Instruction.Length;
        var qualification = vector switch
        {
            ExceptionVector.PF => _intercept.Exception.FaultAddress,
            ExceptionVector.DB => _cpu.PendingDebugStatus & 0x600F,
            _ => 0UL,
        };
        Exit(VmExitReason.ExceptionOrNmi, qualification);
        return true;
    }

    private bool ExternalInterrupt()
    {
        if (!Has(_pin, PinBasedControls.ExternalInterruptExiting))
        {
            NoteEventDelivered();
            return false;
        }
        BeginExit();
        if (Has(_exitControls, VmExitControls.AcknowledgeInterruptOnExit) && _cpu.InterruptSource != null)
        {
            var vector = _cpu.InterruptSource.Acknowledge();
            _current![VmcsField.VmExitInterruptionInformation] = 0x80000000u | vector;
        }
        Exit(VmExitReason.ExternalInterrupt, 0);
        return true;
    }

    /// <summary>IRET ends NMI blocking (virtual-NMI blocking with virtual NMIs); a fault during it reports bit 12 (28.2.3).</summary>
    private void NoteIret()
    {
        var virtualNmis = Has(_pin, PinBasedControls.VirtualNmis);
        _iretUnblockedNmi = virtualNmis ? _virtualNmiBlocked : _cpu.NmiBlocked;
        _iretRip = _cpu.Rip;
        _iretRetired = _cpu.InstructionsRetired;
        if (virtualNmis) _virtualNmiBlocked = false;
        else if (Has(_pin, PinBasedControls.NmiExiting) && _cpu.NmiBlocked)
        {
            // With "NMI exiting" 1, IRET does not affect blocking by NMI (26.3): restored at the next boundary.
            _nmiBlockingHeld = true;
            _cpu.WatchEventWindows = true;
        }
    }

    /// <summary>
    /// A VM exit from a fault or EPT violation during IRET: with "NMI exiting" 0 the blocking by NMI the
    /// IRET ended is cleared before the exit commences (28.1); bit 12 of the exit information records it.
    /// </summary>
    private uint IretNmiUnblocking()
    {
        if (!Has(_pin, PinBasedControls.NmiExiting)) _cpu.NmiBlocked = false;
        return 1u << 12;
    }

    private bool IretUnblockedNmi() =>
        _iretUnblockedNmi && _cpu.Rip == _iretRip && _cpu.InstructionsRetired == _iretRetired
        && (!Has(_pin, PinBasedControls.NmiExiting) || Has(_pin, PinBasedControls.VirtualNmis));

    /// <summary>EPT violation (48) or misconfiguration (49) from the translator's refusal (28.2.1, table 28-7).</summary>
    private bool SecondLevelFault()
    {
        if (!Has(_proc2, SecondaryProcessorBasedControls.EnableEpt)) return false;
        var f = _ept.LastFault;
        BeginExit();
        var v = _current!;
        v[VmcsField.GuestPhysicalAddress] = f.GuestPhysicalAddress;
        if (f.Misconfiguration)
        {
            if (IretUnblockedNmi()) IretNmiUnblocking();
            Exit(VmExitReason.EptMisconfiguration, 0);
            return true;
        }
        if (f.GuestLinearAddressValid) v[VmcsField.GuestLinearAddress] = f.GuestLinearAddress;
        var qualification = f.ExitQualification;
        if (IretUnblockedNmi() && !_intercept.EventInDelivery.HasValue) qualification |= IretNmiUnblocking();
        Exit(VmExitReason.EptViolation, qualification);
        return true;
    }

    /// <summary>An MTF VM exit is pending (25.5.2): injected, after an event's delivery, or after an instruction with the monitor trap flag.</summary>
    private bool MtfDue() => _pendingMtf || (Has(_proc, ProcessorBasedControls.MonitorTrapFlag) && _cpu.InstructionsRetired != _entryRetired);

    private void MtfExit()
    {
        _pendingMtf = false;
        BeginExit();
        Exit(VmExitReason.MonitorTrapFlag, 0);
    }

    /// <summary>
    /// An instruction boundary with a window or deadline armed, in the priority order of 26.2 / 27.7:
    /// monitor trap flag, VMX-preemption timer, NMI window, interrupt window.
    /// </summary>
    private bool EventWindow()
    {
        if (_nmiBlockingHeld)
        {
            _nmiBlockingHeld = false;
            _cpu.NmiBlocked = true;
            _cpu.WatchEventWindows = WindowsWatched();
        }
        if (MtfDue())
        {
            MtfExit();
            return true;
        }
        // Wait-for-SIPI blocks interrupts and NMIs, and the timer causes no VM exit in it (26.5.1).
        if (_cpu.Activity == ActivityState.WaitForSipi) return false;
        if (Has(_pin, PinBasedControls.ActivateVmxPreemptionTimer) && _cpu.Cycles >= _preemptionDeadline)
        {
            BeginExit();
            Exit(VmExitReason.VmxPreemptionTimerExpired, 0);
            return true;
        }
        var shadow = _cpu.BlockingBySti || _cpu.BlockingByMovSs;
        if (Has(_proc, ProcessorBasedControls.NmiWindowExiting) && !_virtualNmiBlocked && !shadow)
        {
            BeginExit();
            Exit(VmExitReason.NmiWindow, 0);
            return true;
        }
        // A deliverable NMI comes before the interrupt window (26.7.5): the processor takes it next.
        if (Has(_proc, ProcessorBasedControls.InterruptWindowExiting) && (_cpu.Flags & Rflags.IF) != 0 && !shadow
            && !(_cpu.NmiPending && !_cpu.NmiBlocked))
        {
            BeginExit();
            Exit(VmExitReason.InterruptWindow, 0);
            return true;
        }
        return false;
    }
}
