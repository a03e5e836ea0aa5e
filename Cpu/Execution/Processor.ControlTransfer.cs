using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private static ulong OperandMask(int size) => size switch { 2 => 0xFFFF, 4 => 0xFFFFFFFF, _ => ulong.MaxValue };

    /// <summary>Checks a near branch target against the CS limit (or canonicality in 64-bit mode) and takes it.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool SetBranchTarget(ulong target)
    {
        if (_bitness == 64)
        {
            if (!IsCanonical(target)) return RaiseFault(ExceptionVector.GP, 0);
        }
        else if (target > _codeLimit)
        {
            return RaiseFault(ExceptionVector.GP, 0);
        }
        Rip = target;
        return true;
    }

    private bool JumpRelative(ref DecodedOp op) =>
        SetBranchTarget((Rip + op.Length + op.Immediate) & OperandMask(op.Size));

    private bool JumpAbsolute(ref DecodedOp op, ulong target) => SetBranchTarget(target & OperandMask(op.Size));

    private bool CallAbsolute(ref DecodedOp op, ulong target) => CallTo(ref op, target & OperandMask(op.Size));

    private bool CallTo(ref DecodedOp op, ulong target)
    {
        var returnAddress = (Rip + op.Length) & OperandMask(op.Size);
        if (_bitness == 64 ? !IsCanonical(target) : target > _codeLimit)
            return RaiseFault(ExceptionVector.GP, 0);
        if (!Push(returnAddress, op.Size)) return false;
        Rip = target;
        return true;
    }

    /// <summary>LOOP, LOOPE, LOOPNE (decrement the count register of the address size) and JCXZ/JECXZ/JRCXZ.</summary>
    private bool Loop(ref DecodedOp op)
    {
        var mask = ulong.MaxValue >> op.AddressShift;
        var count = _r[1] & mask;
        bool taken;
        if (op.Sub == 3) taken = count == 0;
        else
        {
            count = (count - 1) & mask;
            SetAddressRegister(1, count, mask);
            taken = count != 0 && (op.Sub == 0 || (op.Sub == 1 ? GetZF() : !GetZF()));
        }
        if (!taken) return Next(ref op);
        _stopBlock = true;
        return JumpRelative(ref op);
    }

    private bool ReadFarPointer(ref DecodedOp op, out ushort selector, out ulong offset)
    {
        selector = 0;
        var ea = EffectiveAddress(ref op);
        if (!ReadMem(op.Segment, ea, op.Size, out offset)) return false;
        if (!ReadMem(op.Segment, (ea + (ulong)op.Size) & (ulong.MaxValue >> op.AddressShift), 2, out var sel)) return false;
        selector = (ushort)sel;
        return true;
    }

    private bool LoadFarPointer(ref DecodedOp op)
    {
        if (!ReadFarPointer(ref op, out var selector, out var offset)) return false;
        if (!LoadDataSegment(op.Sub, selector)) return false;
        SetReg(op.R, op.Size, offset);
        if (op.Sub == (int)SegmentIndex.SS) ArmInterruptShadow(byMovSs: true);
        return Next(ref op);
    }

    private bool MoveToSegment(ref DecodedOp op, ushort selector)
    {
        if (!LoadDataSegment(op.R, selector)) return false;
        if (op.R == (int)SegmentIndex.SS) ArmInterruptShadow(byMovSs: true);
        return Next(ref op);
    }

    private bool PopSegment(ref DecodedOp op)
    {
        if (!PeekStack(0, op.Size, out var v)) return false;
        if (!LoadDataSegment(op.Sub, (ushort)v)) return false;
        SetStackPointer(_r[4] + op.Size);
        if (op.Sub == (int)SegmentIndex.SS) ArmInterruptShadow(byMovSs: true);
        return Next(ref op);
    }

    /// <summary>Loads CS for a far transfer to a code segment in real or virtual-8086 mode.</summary>
    private void LoadRealModeCode(ushort selector, ulong offset)
    {
        LoadRealModeSegment((int)SegmentIndex.CS, selector);
        Rip = offset;
        ModeChanged();
    }

    /// <summary>Commits CS for a protected-mode far transfer: selector RPL = new CPL, accessed bit set.</summary>
    private void CommitCode(ushort selector, ulong descriptor, SegmentRegister cs, int cpl, ulong offset)
    {
        SetAccessedBit(selector, descriptor);
        cs.Selector = (ushort)((selector & 0xFFFC) | cpl);
        cs.Attributes |= 1;
        _seg[(int)SegmentIndex.CS] = cs;
        Rip = offset;
        SegmentChanged((int)SegmentIndex.CS);
    }

    /// <summary>Checks a code-segment descriptor for a direct far JMP/CALL (SDM vol. 2, JMP and CALL, protected mode).</summary>
    private bool CheckDirectCodeTarget(ushort selector, SegmentRegister cs)
    {
        var error = (uint)(selector & 0xFFFC);
        var rpl = selector & 3;
        if ((cs.Type & 4) != 0)
        {
            if (cs.Dpl > Cpl) return RaiseFault(ExceptionVector.GP, error);
        }
        else if (rpl > Cpl || cs.Dpl != Cpl) return RaiseFault(ExceptionVector.GP, error);
        if (!cs.Present) return RaiseFault(ExceptionVector.NP, error);
        if (InLongMode && cs.Long && cs.DefaultBig) return RaiseFault(ExceptionVector.GP, error);
        return true;
    }

    private bool CheckOffsetInCode(SegmentRegister cs, ulong offset)
    {
        if (InLongMode && cs.Long) return IsCanonical(offset) || RaiseFault(ExceptionVector.GP, 0);
        return offset <= cs.Limit || RaiseFault(ExceptionVector.GP, 0);
    }

    private bool FarJump(ref DecodedOp op, ushort selector, ulong offset) => FarTransfer(ref op, selector, offset, isCall: false);

    private bool FarCall(ref DecodedOp op, ushort selector, ulong offset) => FarTransfer(ref op, selector, offset, isCall: true);

    /// <summary>Far JMP or CALL to a code segment, or through a gate or TSS (SDM vol. 2, JMP and CALL).</summary>
    private bool FarTransfer(ref DecodedOp op, ushort selector, ulong offset, bool isCall)
    {
        var size = op.Size;
        var returnIp = (Rip + op.Length) & OperandMask(size);
        if (!InProtectedMode || InVirtual8086Mode)
        {
            if (isCall && !PushFarReturn(size, returnIp)) return false;
            LoadRealModeCode(selector, offset & OperandMask(size));
            return true;
        }
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadDescriptor(selector, out var desc, ExceptionVector.GP, 0)) return false;
        var target = DescriptorToSegment(selector, desc);
        if (target.IsSystem) return ThroughSystemDescriptor(ref op, selector, desc, isCall);
        if (!target.IsCode) return RaiseFault(ExceptionVector.GP, (uint)(selector & 0xFFFC));
        if (!CheckDirectCodeTarget(selector, target)) return false;
        var off = target.Long && InLongMode ? offset : offset & OperandMask(size);
        if (!CheckOffsetInCode(target, off)) return false;
        if (isCall && !PushFarReturn(size, returnIp)) return false;
        CommitCode(selector, desc, target, Cpl, off);
        return true;
    }

    /// <summary>Pushes CS and the return IP of a far CALL; on a fault the stack pointer is as before.</summary>
    private bool PushFarReturn(int size, ulong returnIp)
    {
        var sp = _r[4];
        if (Push(_seg[(int)SegmentIndex.CS].Selector, size) && Push(returnIp, size)) return true;
        _r[4] = sp;
        return false;
    }

    /// <summary>Far JMP/CALL naming a call gate, task gate or TSS.</summary>
    private bool ThroughSystemDescriptor(ref DecodedOp op, ushort selector, ulong desc, bool isCall)
    {
        var error = (uint)(selector & 0xFFFC);
        var type = (int)(desc >> 40) & 0xF;
        var dpl = (int)(desc >> 45) & 3;
        var present = ((desc >> 47) & 1) != 0;
        var rpl = selector & 3;
        if (InLongMode)
        {
            if (type != 0xC) return RaiseFault(ExceptionVector.GP, error);
        }
        else if (type is not (1 or 9 or 4 or 5 or 0xC)) return RaiseFault(ExceptionVector.GP, error);
        if (dpl < Cpl || dpl < rpl) return RaiseFault(ExceptionVector.GP, error);
        if (!present) return RaiseFault(ExceptionVector.NP, error);
        var returnIp = (Rip + op.Length) & OperandMask(op.Size);
        if (type is 1 or 9)
            return TaskSwitch(selector, isCall ? TaskSwitchSource.Call : TaskSwitchSource.Jump, returnIp, false, 0, false);
        if (type == 5)
            return TaskSwitch((ushort)(desc >> 16), isCall ? TaskSwitchSource.Call : TaskSwitchSource.Jump, returnIp, false, 0, false);

        ulong high = 0;
        if (InLongMode && !ReadDescriptor16(selector, out _, out high, ExceptionVector.GP, 0)) return false;
        if (InLongMode && ((high >> 40) & 0x1F) != 0) return RaiseFault(ExceptionVector.GP, error);
        var codeSelector = (ushort)(desc >> 16);
        var gateOffset = (desc & 0xFFFF) | ((desc >> 32) & 0xFFFF0000UL);
        if (type == 4) gateOffset &= 0xFFFF;
        if (InLongMode) gateOffset |= high << 32;
        var paramCount = (int)(desc >> 32) & 0x1F;
        var gateSize = InLongMode ? 8 : type == 0xC ? 4 : 2;

        if ((codeSelector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadDescriptor(codeSelector, out var codeDesc, ExceptionVector.GP, 0)) return false;
        var code = DescriptorToSegment(codeSelector, codeDesc);
        var codeError = (uint)(codeSelector & 0xFFFC);
        if (code.IsSystem || !code.IsCode || code.Dpl > Cpl) return RaiseFault(ExceptionVector.GP, codeError);
        if (InLongMode && (!code.Long || code.DefaultBig)) return RaiseFault(ExceptionVector.GP, codeError);
        if (!code.Present) return RaiseFault(ExceptionVector.NP, codeError);
        var conforming = (code.Type & 4) != 0;
        if (!isCall)
        {
            if (!conforming && code.Dpl != Cpl) return RaiseFault(ExceptionVector.GP, codeError);
            if (!CheckOffsetInCode(code, gateOffset)) return false;
            CommitCode(codeSelector, codeDesc, code, Cpl, gateOffset);
            return true;
        }
        if (!CheckOffsetInCode(code, gateOffset)) return false;
        if (conforming || code.Dpl == Cpl)
        {
            if (!PushFarReturn(gateSize, returnIp)) return false;
            CommitCode(codeSelector, codeDesc, code, Cpl, gateOffset);
            return true;
        }
        return CallGateToInnerLevel(code, codeSelector, codeDesc, gateOffset, gateSize, paramCount, returnIp);
    }

    /// <summary>A CALL through a gate to a more privileged non-conforming segment: switch stacks via the TSS and copy parameters.</summary>
    private bool CallGateToInnerLevel(SegmentRegister code, ushort codeSelector, ulong codeDesc, ulong offset, int size, int paramCount, ulong returnIp)
    {
        var newCpl = code.Dpl;
        var oldSs = _seg[(int)SegmentIndex.SS];
        var oldSp = _r[4];
        var oldCs = _seg[(int)SegmentIndex.CS].Selector;
        if (InLongMode)
        {
            if (!ReadTss64(4 + newCpl * 8, out var rsp, 0)) return false;
            if (!IsCanonical(rsp)) return RaiseFault(ExceptionVector.SS, 0);
            var values = _frameScratch;
            values[0] = oldSs.Selector;
            values[1] = oldSp;
            values[2] = oldCs;
            values[3] = returnIp;
            var sp = rsp;
            for (var i = 0; i < 4; i++)
            {
                sp -= 8;
                if (!WriteLinearAs(sp, 8, values[i], newCpl)) return false;
            }
            _seg[(int)SegmentIndex.SS] = new SegmentRegister { Selector = (ushort)newCpl, Attributes = SegmentRegister.UnusableBit | (uint)(newCpl << 5) };
            _r[4] = sp;
            CommitCode(codeSelector, codeDesc, code, newCpl, offset);
            SegmentChanged((int)SegmentIndex.SS);
            return true;
        }
        if (!ReadTssStack(newCpl, out var ssSel, out var newSp, 0)) return false;
        if (!LoadStackForPrivilegeChange(ssSel, newCpl, 0, out var newSs)) return false;
        var parameters = _paramScratch;
        var oldMask = oldSs.DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
        for (var i = 0; i < paramCount; i++)
        {
            if (!ReadMem((int)SegmentIndex.SS, (oldSp + (ulong)(i * size)) & oldMask, size, out parameters[i])) return false;
        }
        var mask = newSs.DefaultBig ? 0xFFFFFFFFUL : 0xFFFFUL;
        var spNew = newSp & mask;
        if (!FrameFitsStack(newSs, ssSel, spNew, (4 + paramCount) * size, mask, 0)) return false;
        bool PushNew(ulong value)
        {
            spNew = (spNew - (ulong)size) & mask;
            return WriteSystem(newSs.Base + spNew, size, value);
        }
        if (!PushNew(oldSs.Selector) || !PushNew(oldSp & oldMask)) return false;
        for (var i = paramCount - 1; i >= 0; i--)
            if (!PushNew(parameters[i])) return false;
        if (!PushNew(oldCs) || !PushNew(returnIp)) return false;
        _seg[(int)SegmentIndex.SS] = newSs;
        _r[4] = newSs.DefaultBig ? spNew : (newSp & ~0xFFFFUL) | spNew;
        CommitCode(codeSelector, codeDesc, code, newCpl, offset);
        SegmentChanged((int)SegmentIndex.SS);
        return true;
    }

    private readonly ulong[] _paramScratch = new ulong[32];

    /// <summary>RETF: same-level or outer-level return (SDM vol. 2, RET, protected mode).</summary>
    private bool FarReturn(ref DecodedOp op)
    {
        var size = op.Size;
        if (!PeekStack(0, size, out var offset) || !PeekStack((ulong)size, size, out var csValue)) return false;
        var selector = (ushort)csValue;
        if (!InProtectedMode || InVirtual8086Mode)
        {
            SetStackPointer(_r[4] + (ulong)(2 * size) + op.Immediate);
            LoadRealModeCode(selector, offset & OperandMask(size));
            return true;
        }
        if (!CheckReturnCode(selector, out var desc, out var code)) return false;
        var rpl = selector & 3;
        var targetOffset = InLongMode && code.Long ? offset : offset & OperandMask(size);
        if (!CheckOffsetInCode(code, targetOffset)) return false;
        if (rpl == Cpl)
        {
            SetStackPointer(_r[4] + (ulong)(2 * size) + op.Immediate);
            CommitCode(selector, desc, code, Cpl, targetOffset);
            return true;
        }
        var extra = (ulong)(2 * size) + op.Immediate;
        if (!PeekStack(extra, size, out var newSp) || !PeekStack(extra + (ulong)size, size, out var ssValue)) return false;
        return ReturnToOuterLevel(selector, desc, code, targetOffset, (ushort)ssValue, newSp + op.Immediate, size);
    }

    /// <summary>
    /// The checks of the code segment that RETF or IRET returns to (SDM vol. 2, RET and IRET): not
    /// null, a present code segment, RPL not below CPL, DPL = RPL (≤ RPL if conforming), no L+D.
    /// </summary>
    private bool CheckReturnCode(ushort selector, out ulong descriptor, out SegmentRegister code)
    {
        code = default;
        descriptor = 0;
        if ((selector & 0xFFFC) == 0) return RaiseFault(ExceptionVector.GP, 0);
        if (!ReadDescriptor(selector, out descriptor, ExceptionVector.GP, 0)) return false;
        code = DescriptorToSegment(selector, descriptor);
        var error = (uint)(selector & 0xFFFC);
        var rpl = selector & 3;
        if (code.IsSystem || !code.IsCode || rpl < Cpl) return RaiseFault(ExceptionVector.GP, error);
        if ((code.Type & 4) != 0 ? code.Dpl > rpl : code.Dpl != rpl) return RaiseFault(ExceptionVector.GP, error);
        if (!code.Present) return RaiseFault(ExceptionVector.NP, error);
        if (InLongMode && code.Long && code.DefaultBig) return RaiseFault(ExceptionVector.GP, error);
        return true;
    }

    /// <summary>The stack and data-segment part of a return to an outer privilege level (RETF and IRET).</summary>
    private bool ReturnToOuterLevel(ushort csSelector, ulong csDesc, SegmentRegister code, ulong offset, ushort ssSelector, ulong sp, int size)
    {
        var newCpl = csSelector & 3;
        SegmentRegister ss;
        ulong ssDesc = 0;
        if ((ssSelector & 0xFFFC) == 0)
        {
            if (!(InLongMode && code.Long && newCpl != 3)) return RaiseFault(ExceptionVector.GP, 0);
            ss = new SegmentRegister { Selector = ssSelector, Attributes = SegmentRegister.UnusableBit | (uint)(newCpl << 5) };
        }
        else
        {
            if (!ReadDescriptor(ssSelector, out ssDesc, ExceptionVector.GP, 0)) return false;
            ss = DescriptorToSegment(ssSelector, ssDesc);
            var error = (uint)(ssSelector & 0xFFFC);
            if ((ssSelector & 3) != newCpl || ss.IsSystem || ss.IsCode || (ss.Type & 2) == 0 || ss.Dpl != newCpl)
                return RaiseFault(ExceptionVector.GP, error);
            if (!ss.Present) return RaiseFault(ExceptionVector.SS, error);
            SetAccessedBit(ssSelector, ssDesc);
            ss.Attributes |= 1;
        }
        CommitCode(csSelector, csDesc, code, newCpl, offset);
        _seg[(int)SegmentIndex.SS] = ss;
        SegmentChanged((int)SegmentIndex.SS);
        if (_bitness == 64 || size == 8) _r[4] = sp;
        else if (ss.DefaultBig) _r[4] = (uint)sp;
        else _r[4] = (_r[4] & ~0xFFFFUL) | (ushort)sp;
        // Data segments the new, less privileged level may not use become null.
        foreach (var s in DataSegments)
        {
            ref var seg = ref _seg[(int)s];
            if (seg.Unusable) continue;
            var conformingCode = seg.IsCode && (seg.Type & 4) != 0;
            if ((seg.IsSystem || !conformingCode) && seg.Dpl < newCpl)
            {
                seg = new SegmentRegister { Selector = 0, Attributes = SegmentRegister.UnusableBit };
                SegmentChanged((int)s);
            }
        }
        return true;
    }

    private bool SoftwareInterrupt(ref DecodedOp op, int vector, EventKind kind)
    {
        // SVM's INTn intercept comes before any exception is checked (APM vol. 2, table 15-7).
        if (Hooks != null && op.Handler == Handler.Int && Intercepted(ref op, InterceptKind.SoftwareInterrupt, (ulong)vector, 0)) return _hookRetired;
        if (InVirtual8086Mode && kind == EventKind.Software && op.Handler == Handler.Int && Iopl < 3)
            return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null)
        {
            // INT3 and INTO are software exceptions, INT1 a privileged one, seen by the exception intercepts.
            if (op.Handler == Handler.Int1 && Intercepted(ref op, InterceptKind.Icebp, 0, 0)) return _hookRetired;
            var flag = op.Handler == Handler.Int1 ? 0x200UL : op.Handler == Handler.Int ? 0 : 0x100UL;
            if (flag != 0 && Intercepted(ref op, InterceptKind.Exception, (uint)vector | flag, 0)) return _hookRetired;
        }
        _softwareIntLength = op.Length;
        _softwareEventType = op.Handler == Handler.Int ? EventType.SoftwareInterrupt : EventType.SoftwareException;
        DeliverEvent(vector, kind, 0, false);
        _softwareIntLength = 0;
        _softwareEventType = EventType.SoftwareInterrupt;
        return Activity != ActivityState.Shutdown;
    }

    private int Iopl => (int)((_flags >> Rflags.IoplShift) & 3);

    private bool Bound(ref DecodedOp op)
    {
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        var ea = EffectiveAddress(ref op);
        if (!ReadMem(op.Segment, ea, op.Size, out var lower)) return false;
        if (!ReadMem(op.Segment, (ea + op.Size) & (ulong.MaxValue >> op.AddressShift), op.Size, out var upper)) return false;
        var index = (long)SignExtend(GetReg(op.R, op.Size), op.Size);
        if (index < (long)SignExtend(lower, op.Size) || index > (long)SignExtend(upper, op.Size))
            return RaiseFault(ExceptionVector.BR, 0);
        return Next(ref op);
    }
}
