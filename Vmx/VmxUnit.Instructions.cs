using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Vmx.Ept;

namespace Sim.Vmx;

/// <summary>The VMX instructions (SDM vol. 3, chapter 31), one implementation for guest code and for host software in C#.</summary>
public sealed partial class VmxUnit
{
    private const ulong StatusFlags = Rflags.CF | Rflags.PF | Rflags.AF | Rflags.ZF | Rflags.SF | Rflags.OF;

    public VmxResult Vmxon(ulong vmxonRegion) => Check(Mnemonic.Vmxon) ?? VmxonCore(vmxonRegion);

    public VmxResult Vmxoff() => Check(Mnemonic.Vmxoff) ?? VmxoffCore();

    public VmxResult Vmclear(ulong vmcs) => Check(Mnemonic.Vmclear) ?? VmclearCore(vmcs);

    public VmxResult Vmptrld(ulong vmcs) => Check(Mnemonic.Vmptrld) ?? VmptrldCore(vmcs);

    public VmxResult Vmptrst(out ulong vmcs)
    {
        vmcs = ulong.MaxValue;
        var fault = Check(Mnemonic.Vmptrst);
        if (fault.HasValue) return fault.Value;
        vmcs = _current?.Address ?? ulong.MaxValue;
        return VmxResult.Succeed;
    }

    public VmxResult Vmread(VmcsField field, out ulong value) => Vmread((ulong)field, out value);

    /// <summary>VMREAD with the operand size of the processor's current mode (64 in 64-bit mode, else 32).</summary>
    public VmxResult Vmread(ulong encoding, out ulong value)
    {
        value = 0;
        var fault = Check(Mnemonic.Vmread);
        if (fault.HasValue) return fault.Value;
        return VmreadCore(encoding, _cpu.CodeBitness == 64 ? 8 : 4, out value);
    }

    /// <summary>
    /// <see cref="Vmread(ulong, out ulong)"/> for host software on a hot path (a kernel model's exit handling and UTCB
    /// transfer): the common case — 64-bit mode, CPL 0, VMX root operation, a current VMCS, a supported full field — is
    /// tested with a few comparisons and charged as VMREAD; anything else goes through VMREAD's checks. Failures read 0.
    /// </summary>
    public ulong ReadCurrent(VmcsField field)
    {
        var slot = Vmcs.Slot((ulong)field, out var high);
        if (_current is not { } vmcs || !InVmxOperation || InNonRootOperation || slot < 0 || high || _cpu.CodeBitness != 64 || _cpu.Cpl != 0)
        {
            Vmread((ulong)field, out var value);
            return value;
        }
        _cpu.AddCycles(Costs.Vmread);
        return vmcs.GetSlot(slot);
    }
    public VmxResult Vmwrite(VmcsField field, ulong value) => Vmwrite((ulong)field, value);

    public VmxResult Vmwrite(ulong encoding, ulong value)
    {
        var fault = Check(Mnemonic.Vmwrite);
        if (fault.HasValue) return fault.Value;
        return VmwriteCore(encoding, value, _cpu.CodeBitness == 64 ? 8 : 4);
    }

    public VmxResult Vmlaunch() => Check(Mnemonic.Vmlaunch) ?? Enter(resume: false);

    public VmxResult Vmresume() => Check(Mnemonic.Vmresume) ?? Enter(resume: true);

    /// <summary>INVEPT with the EPTP of its 128-bit descriptor (bits 127:64 are reserved and not consulted).</summary>
    public VmxResult Invept(ulong type, ulong eptp) => Check(Mnemonic.Invept) ?? InveptCore(type, eptp);

    /// <summary>INVVPID with the 128-bit descriptor (VPID in bits 15:0 of the first quadword, linear address).</summary>
    public VmxResult Invvpid(ulong type, ulong vpidQuadword, ulong linearAddress) => Check(Mnemonic.Invvpid) ?? InvvpidCore(type, vpidQuadword, linearAddress);

    public VmxResult Vmcall() => Check(Mnemonic.Vmcall) ?? VmFail(VmxInstructionError.VmcallInVmxRootOperation);

    /// <summary>
    /// The #UD and #GP conditions that come before anything else (the "Operation" sections of
    /// VMXON and the other VMX instructions). Host software in C# runs in VMX root operation; a call
    /// while the processor is in non-root operation is refused with #UD.
    /// </summary>
    private VmxResult? Check(Mnemonic m)
    {
        if (InNonRootOperation) return VmxResult.Fault(ExceptionVector.UD);
        var vector = InstructionFault(m);
        return vector < 0 ? null : VmxResult.Fault(vector);
    }

    /// <summary>The #UD or #GP(0) a VMX instruction raises before it does anything; -1 when none.</summary>
    private int InstructionFault(Mnemonic m)
    {
        var vector = ModeFault(m);
        return vector >= 0 ? vector : PrivilegeFault(m);
    }

    /// <summary>#UD of a VMX instruction from the processor mode; -1 when none.</summary>
    private int ModeFault(Mnemonic m)
    {
        if (m == Mnemonic.Vmfunc) return ExceptionVector.UD;
        if (!_cpu.InProtectedMode || _cpu.InVirtual8086Mode) return ExceptionVector.UD;
        if (_cpu.InLongMode && !_cpu.GetSegment(SegmentIndex.CS).Long) return ExceptionVector.UD;
        if (m == Mnemonic.Vmxon) return (_cpu.Cr4 & Cr4.VMXE) == 0 ? ExceptionVector.UD : -1;
        return InVmxOperation ? -1 : ExceptionVector.UD;
    }

    /// <summary>#GP(0) of a VMX instruction in root operation (or of VMXON outside VMX operation); -1 when none.</summary>
    private int PrivilegeFault(Mnemonic m)
    {
        if (_cpu.Cpl > 0) return ExceptionVector.GP;
        if (m == Mnemonic.Vmxon && !InVmxOperation)
        {
            // IA32_FEATURE_CONTROL: lock (bit 0) and VMXON outside SMX (bit 2); CR0/CR4 within the fixed bits.
            if ((_cpu.FeatureControl & 5) != 5) return ExceptionVector.GP;
            if (!VmxCapability.Cr0Allowed(_cpu.Cr0) || !VmxCapability.Cr4Allowed(_cpu.Cr4)) return ExceptionVector.GP;
        }
        return -1;
    }

    /// <summary>VMfail: VMfailValid with the error number when there is a current VMCS, else VMfailInvalid.</summary>
    private VmxResult VmFail(VmxInstructionError error)
    {
        if (_current == null) return VmxResult.FailInvalid;
        _current[VmcsField.VmInstructionError] = (ulong)error;
        return VmxResult.FailValid(error);
    }

    private VmxResult VmxonCore(ulong pa)
    {
        if (InVmxOperation) return VmFail(VmxInstructionError.VmxonInVmxRootOperation);
        if ((pa & 0xFFF) != 0 || !IsValidPhysicalAddress(pa)) return VmxResult.FailInvalid;
        var revision = _memory.Read(pa, 4);
        if (revision != VmxCapability.VmcsRevisionId) return VmxResult.FailInvalid;
        _vmxonPointer = pa;
        _current = null;
        InVmxOperation = true;
        return VmxResult.Succeed;
    }

    private VmxResult VmxoffCore()
    {
        foreach (var v in _active)
            if (v.Launched) v.LaunchedBeforeVmxoff = true;
        InVmxOperation = false;
        _current = null;
        return VmxResult.Succeed;
    }

    /// <summary>
    /// VMCLEAR (SDM vol. 3, 31.3). A VMCS active on another processor is refused with error 2: the
    /// SDM leaves that case undefined, and the machine must never use one VMCS on two processors.
    /// </summary>
    private VmxResult VmclearCore(ulong pa)
    {
        if ((pa & 0xFFF) != 0 || !IsValidPhysicalAddress(pa)) return VmFail(VmxInstructionError.VmclearWithInvalidPhysicalAddress);
        if (pa == _vmxonPointer) return VmFail(VmxInstructionError.VmclearWithVmxonPointer);
        var owner = _registry.OwnerOf(pa);
        if (owner >= 0 && owner != _cpu.Index) return VmFail(VmxInstructionError.VmclearWithInvalidPhysicalAddress);
        var vmcs = FindActive(pa);
        if (vmcs != null)
        {
            vmcs.Launched = false;
            vmcs.StoreTo(_memory);
            _active.Remove(vmcs);
            _registry.Release(pa);
            if (_current == vmcs) _current = null;
        }
        else _memory.Write(pa + Vmcs.LaunchStateOffset, 4, 0);
        return VmxResult.Succeed;
    }

    /// <summary>VMPTRLD (SDM vol. 3, 31.3); a VMCS still active on another processor is refused with error 9 (see <see cref="VmclearCore"/>).</summary>
    private VmxResult VmptrldCore(ulong pa)
    {
        if ((pa & 0xFFF) != 0 || !IsValidPhysicalAddress(pa)) return VmFail(VmxInstructionError.VmptrldWithInvalidPhysicalAddress);
        if (pa == _vmxonPointer) return VmFail(VmxInstructionError.VmptrldWithVmxonPointer);
        // Bit 31 set asks for a shadow VMCS, which this processor does not support.
        if (_memory.Read(pa, 4) != VmxCapability.VmcsRevisionId) return VmFail(VmxInstructionError.VmptrldWithIncorrectRevisionIdentifier);
        var vmcs = FindActive(pa);
        if (vmcs == null)
        {
            var owner = _registry.OwnerOf(pa);
            if (owner >= 0 && owner != _cpu.Index) return VmFail(VmxInstructionError.VmptrldWithInvalidPhysicalAddress);
            vmcs = new Vmcs();
            vmcs.LoadFrom(_memory, pa);
            _active.Add(vmcs);
            _registry.Activate(pa, _cpu.Index);
        }
        _current = vmcs;
        return VmxResult.Succeed;
    }

    private Vmcs? FindActive(ulong pa)
    {
        foreach (var v in _active)
            if (v.Address == pa) return v;
        return null;
    }

    /// <summary>VMREAD with an operand of <paramref name="operandSize"/> bytes: a 32-bit operand names the encoding in its low half and receives the low half of the field.</summary>
    private VmxResult VmreadCore(ulong encoding, int operandSize, out ulong value)
    {
        value = 0;
        _cpu.AddCycles(Costs.Vmread);
        if (_current == null) return VmxResult.FailInvalid;
        if (operandSize == 4) encoding = (uint)encoding;
        var slot = Vmcs.Slot(encoding, out var high);
        if (slot < 0) return VmFail(VmxInstructionError.UnsupportedVmcsComponent);
        value = _current.GetSlot(slot);
        if (high) value >>= 32;
        if (operandSize == 4) value = (uint)value;
        return VmxResult.Succeed;
    }

    /// <summary>VMWRITE: a field shorter than the operand ignores the high bits; a longer one gets them cleared (SDM vol. 3, VMWRITE).</summary>
    private VmxResult VmwriteCore(ulong encoding, ulong value, int operandSize)
    {
        _cpu.AddCycles(Costs.Vmwrite);
        if (_current == null) return VmxResult.FailInvalid;
        if (operandSize == 4) encoding = (uint)encoding;
        var slot = Vmcs.Slot(encoding, out var high);
        if (slot < 0) return VmFail(VmxInstructionError.UnsupportedVmcsComponent);
        if (Vmcs.IsReadOnly((uint)encoding)) return VmFail(VmxInstructionError.VmwriteToReadOnlyVmcsComponent);
        if (high) value = (_current.GetSlot(slot) & 0xFFFFFFFF) | ((value & 0xFFFFFFFF) << 32);
        else if (operandSize == 4) value = (uint)value;
        _current.SetSlot(slot, value);
        return VmxResult.Succeed;
    }

    private VmxResult InveptCore(ulong type, ulong eptp)
    {
        switch (type)
        {
            case 1:
                if (!EptTranslator.IsValidEptp(eptp)) return VmFail(VmxInstructionError.InvalidOperandToInveptInvvpid);
                _tags.FlushSecond(eptp & ~0xFFFUL);
                return VmxResult.Succeed;
            case 2:
                _tags.FlushGuests();
                return VmxResult.Succeed;
            default:
                return VmFail(VmxInstructionError.InvalidOperandToInveptInvvpid);
        }
    }

    private VmxResult InvvpidCore(ulong type, ulong first, ulong linear)
    {
        if (type > 3 || (first >> 16) != 0) return VmFail(VmxInstructionError.InvalidOperandToInveptInvvpid);
        var vpid = first & 0xFFFF;
        if (type != 2 && vpid == 0) return VmFail(VmxInstructionError.InvalidOperandToInveptInvvpid);
        switch (type)
        {
            case 0:
                if (!Processor.IsCanonical(linear)) return VmFail(VmxInstructionError.InvalidOperandToInveptInvvpid);
                _cpu.FlushTranslationPage(linear);
                break;
            case 2:
                _tags.FlushGuests();
                break;
            default:
                // Single-context, with or without retaining globals: dropping the globals too is allowed.
                _tags.FlushFirst(vpid);
                break;
        }
        return VmxResult.Succeed;
    }

    /// <summary>A VMX instruction executed by guest code in VMX root operation (or outside VMX operation).</summary>
    private bool ExecuteGuestInstruction(Code code)
    {
        var m = code.Mnemonic();
        if (m is not (Mnemonic.Vmxon or Mnemonic.Vmxoff or Mnemonic.Vmclear or Mnemonic.Vmptrld or Mnemonic.Vmptrst or Mnemonic.Vmread
            or Mnemonic.Vmwrite or Mnemonic.Vmlaunch or Mnemonic.Vmresume or Mnemonic.Invept or Mnemonic.Invvpid or Mnemonic.Vmcall))
            return Fault(ExceptionVector.UD);
        var ii = _intercept.Instruction;
        var vector = InstructionFault(m);
        if (vector >= 0) return Fault(vector);
        VmxResult r;
        switch (m)
        {
            case Mnemonic.Vmxon or Mnemonic.Vmclear or Mnemonic.Vmptrld:
            {
                if (!_cpu.ReadOperand(8, out var pa)) return true;
                r = m == Mnemonic.Vmxon ? VmxonCore(pa) : m == Mnemonic.Vmclear ? VmclearCore(pa) : VmptrldCore(pa);
                break;
            }
            case Mnemonic.Vmptrst:
                if (!_cpu.WriteOperand(8, _current?.Address ?? ulong.MaxValue)) return true;
                r = VmxResult.Succeed;
                break;
            case Mnemonic.Vmread:
            {
                var size = ii.OperandSize;
                r = VmreadCore(_cpu.GetGpr(ii.HasMemoryOperand ? ii.Register : ii.RmRegister), size, out var value);
                if (r.Succeeded)
                {
                    if (ii.HasMemoryOperand)
                    {
                        if (!_cpu.WriteOperand(size, value)) return true;
                    }
                    else _cpu.SetGpr(ii.Register, value);
                }
                break;
            }
            case Mnemonic.Vmwrite:
            {
                var size = ii.OperandSize;
                ulong value;
                if (ii.HasMemoryOperand)
                {
                    if (!_cpu.ReadOperand(size, out value)) return true;
                }
                else value = _cpu.GetGpr(ii.RmRegister);
                r = VmwriteCore(_cpu.GetGpr(ii.Register), value, size);
                break;
            }
            case Mnemonic.Vmlaunch or Mnemonic.Vmresume:
                r = Enter(m == Mnemonic.Vmresume);
                break;
            case Mnemonic.Invept or Mnemonic.Invvpid:
            {
                var type = _cpu.GetGpr(ii.Register);
                if (_cpu.CodeBitness != 64) type = (uint)type;
                if (!_cpu.ReadOperand(8, out var low) || !_cpu.ReadOperand(8, 8, out var high)) return true;
                r = m == Mnemonic.Invept ? InveptCore(type, low) : InvvpidCore(type, low, high);
                break;
            }
            case Mnemonic.Vmcall:
                r = VmFail(VmxInstructionError.VmcallInVmxRootOperation);
                break;
            default:
                r = VmxoffCore();
                break;
        }
        return Complete(r, m is Mnemonic.Vmlaunch or Mnemonic.Vmresume);
    }

    /// <summary>Sets RFLAGS as VMsucceed, VMfailInvalid or VMfailValid do and finishes the guest's instruction.</summary>
    private bool Complete(VmxResult r, bool entry)
    {
        switch (r.Kind)
        {
            case VmxResultKind.Fault:
                return Fault(r.Vector, r.ErrorCode);
            case VmxResultKind.EntryFailure or VmxResultKind.VmExit:
                _cpu.RetireInstruction();
                return true;
            case VmxResultKind.Succeed when entry:
                _cpu.RetireInstruction();
                return true;
        }
        var flags = _cpu.Flags & ~StatusFlags;
        if (r.Kind == VmxResultKind.FailInvalid) flags |= Rflags.CF;
        else if (r.Kind == VmxResultKind.FailValid) flags |= Rflags.ZF;
        _cpu.Flags = flags;
        _cpu.CompleteInstruction();
        return true;
    }
}
