using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private static readonly SegmentIndex[] DataSegments = [SegmentIndex.ES, SegmentIndex.DS, SegmentIndex.FS, SegmentIndex.GS];

    /// <summary>
    /// Writes RFLAGS from POPF or IRET with the privilege rules: IOPL only at CPL 0, IF only when
    /// CPL ≤ IOPL, VM/RF/VIF/VIP never from POPF; the operand size limits which bits change.
    /// </summary>
    private void WriteFlagsChecked(ulong value, int size, bool fromIret)
    {
        var old = MaterializeFlags();
        var changeable = Rflags.Status | Rflags.TF | Rflags.DF | Rflags.NT | Rflags.AC | Rflags.ID;
        if (Cpl == 0 && !InVirtual8086Mode) changeable |= Rflags.IOPL;
        if (!InProtectedMode || Cpl <= Iopl) changeable |= Rflags.IF;
        if (fromIret) changeable |= Rflags.RF;
        if (fromIret && Cpl == 0) changeable |= Rflags.VIF | Rflags.VIP;
        if (size == 2) changeable &= 0xFFFF;
        var updated = (old & ~changeable) | (value & changeable);
        _flags = (updated & Rflags.Implemented) | Rflags.Reserved1;
        _lazyMask = 0;
        if (((old ^ _flags) & Rflags.AC) != 0) Tlb.FlushAll();
        _eventsPending = true;
        _stopBlock = true;
    }

    private bool PushFlags(ref DecodedOp op)
    {
        // SVM's PUSHF and POPF intercepts take priority over any exception (APM vol. 2, table 15-7).
        if (Hooks != null && Intercepted(ref op, InterceptKind.Pushf, 0, 0)) return _hookRetired;
        if (InVirtual8086Mode && Iopl < 3) return RaiseFault(ExceptionVector.GP, 0);
        var f = MaterializeFlags() & ~(Rflags.VM | Rflags.RF);
        if (!Push(f, op.Size)) return false;
        return Next(ref op);
    }

    private bool PopFlags(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Popf, 0, 0)) return _hookRetired;
        if (InVirtual8086Mode && Iopl < 3) return RaiseFault(ExceptionVector.GP, 0);
        if (!Pop(op.Size, out var v)) return false;
        WriteFlagsChecked(v, op.Size, false);
        return Next(ref op);
    }

    private bool Cli(ref DecodedOp op)
    {
        if (InProtectedMode && Cpl > Iopl) return RaiseFault(ExceptionVector.GP, 0);
        _flags &= ~Rflags.IF;
        return Next(ref op);
    }

    private bool Sti(ref DecodedOp op)
    {
        if (InProtectedMode && Cpl > Iopl) return RaiseFault(ExceptionVector.GP, 0);
        if ((_flags & Rflags.IF) == 0)
        {
            _flags |= Rflags.IF;
            ArmInterruptShadow();
        }
        _eventsPending = true;
        return Next(ref op);
    }

    /// <summary>CLAC and STAC (SDM vol. 2): SMAP's control of EFLAGS.AC, #UD outside CPL 0 or in virtual-8086 mode.</summary>
    private bool SetAlignmentCheck(ref DecodedOp op)
    {
        if (Cpl > 0 || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        _flags = op.Handler == Handler.Stac ? _flags | Rflags.AC : _flags & ~Rflags.AC;
        return Next(ref op);
    }

    /// <summary>IRET/IRETD/IRETQ in every mode (SDM vol. 2, IRET pseudocode).</summary>
    private bool InterruptReturn(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Iret, 0, 0)) return _hookRetired;
        // NMIs are unblocked by an IRET that completes, not by one that faults.
        if (!InterruptReturnCore(ref op)) return false;
        _nmiBlocked = false;
        _eventsPending = true;
        return true;
    }

    private bool InterruptReturnCore(ref DecodedOp op)
    {
        var size = op.Size;
        if (!InProtectedMode)
        {
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var cs) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            if ((ip & OperandMask(size)) > _seg[(int)SegmentIndex.CS].Limit) return RaiseFault(ExceptionVector.GP, 0);
            SetStackPointer(_r[4] + (ulong)(3 * size));
            WriteFlagsChecked(fl, size, true);
            LoadRealModeCode((ushort)cs, ip & OperandMask(size));
            return true;
        }
        if (InVirtual8086Mode)
        {
            if (Iopl < 3) return RaiseFault(ExceptionVector.GP, 0);
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var cs) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            SetStackPointer(_r[4] + (ulong)(3 * size));
            // In virtual-8086 mode IRET leaves IOPL and VM alone.
            var keep = MaterializeFlags() & (Rflags.IOPL | Rflags.VM | Rflags.VIF | Rflags.VIP);
            var mask = size == 2 ? 0xFFFFUL : Rflags.Implemented;
            var merged = (MaterializeFlags() & ~mask) | (fl & mask);
            _flags = ((merged & ~(Rflags.IOPL | Rflags.VM | Rflags.VIF | Rflags.VIP)) | keep) & Rflags.Implemented | Rflags.Reserved1;
            _eventsPending = true;
            LoadRealModeCode((ushort)cs, ip & 0xFFFF);
            return true;
        }
        if ((_flags & Rflags.NT) != 0)
        {
            if (InLongMode) return RaiseFault(ExceptionVector.GP, 0);
            return TaskReturn(op.Length);
        }
        {
            if (!PeekStack(0, size, out var ip) || !PeekStack((ulong)size, size, out var csValue) || !PeekStack((ulong)(2 * size), size, out var fl))
                return false;
            var selector = (ushort)csValue;
            if (size == 4 && (fl & Rflags.VM) != 0 && Cpl == 0 && !InLongMode) return ReturnToVirtual8086(ip, selector, fl);
            if (!CheckReturnCode(selector, out var desc, out var code)) return false;
            var rpl = selector & 3;
            var target = InLongMode && code.Long ? ip : ip & OperandMask(size);
            if (!CheckOffsetInCode(code, target)) return false;
            var fromLong64 = _bitness == 64;
            if (rpl == Cpl && !fromLong64)
            {
                SetStackPointer(_r[4] + (ulong)(3 * size));
                WriteFlagsChecked(fl, size, true);
                CommitCode(selector, desc, code, Cpl, target);
                return true;
            }
            if (!PeekStack((ulong)(3 * size), size, out var sp) || !PeekStack((ulong)(4 * size), size, out var ss)) return false;
            var oldCpl = Cpl;
            // Flags are written with the privilege of the level IRET starts from.
            var flagsBefore = MaterializeFlags();
            WriteFlagsChecked(fl, size, true);
            if (rpl == oldCpl)
            {
                // 64-bit mode: IRET always pops SS:RSP, even at the same privilege level.
                if ((ss & 0xFFFC) == 0 && !(code.Long && rpl != 3))
                {
                    _flags = flagsBefore;
                    return RaiseFault(ExceptionVector.GP, 0);
                }
            }
            if (!ReturnToOuterLevel(selector, desc, code, target, (ushort)ss, sp, size))
            {
                _flags = flagsBefore;
                return false;
            }
            return true;
        }
    }

    private bool ReturnToVirtual8086(ulong ip, ushort cs, ulong fl)
    {
        var frame = _frameScratch;
        for (var i = 0; i < 6; i++)
            if (!PeekStack((ulong)(12 + i * 4), 4, out frame[i])) return false;
        _flags = (fl & Rflags.Implemented) | Rflags.Reserved1;
        _lazyMask = 0;
        var esp = frame[0];
        var ss = (ushort)frame[1];
        LoadRealModeSegment((int)SegmentIndex.ES, (ushort)frame[2]);
        LoadRealModeSegment((int)SegmentIndex.DS, (ushort)frame[3]);
        LoadRealModeSegment((int)SegmentIndex.FS, (ushort)frame[4]);
        LoadRealModeSegment((int)SegmentIndex.GS, (ushort)frame[5]);
        LoadRealModeSegment((int)SegmentIndex.SS, ss);
        LoadRealModeSegment((int)SegmentIndex.CS, cs);
        _r[4] = (uint)esp;
        Rip = ip & 0xFFFF;
        AllSegmentsChanged();
        _eventsPending = true;
        return true;
    }

    private bool PopMemory(ref DecodedOp op)
    {
        var mask = _stackMask;
        var sp = _r[4];
        if (!ReadMem((int)SegmentIndex.SS, sp & mask, op.Size, out var v)) return false;
        // The destination address is computed with the incremented stack pointer.
        _r[4] = (sp & ~mask) | ((sp + op.Size) & mask);
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), op.Size, v))
        {
            _r[4] = sp;
            return false;
        }
        return Next(ref op);
    }

    private bool Enter(ref DecodedOp op)
    {
        var size = op.Size;
        var level = op.Imm16 & 31;
        var savedSp = _r[4];
        var frameBase = _r[5];
        var mask = _stackMask;
        if (!Push(GetReg(5, size), size)) return false;
        var frameTemp = _r[4] & mask;
        if (level > 0)
        {
            for (var i = 1; i < level; i++)
            {
                frameBase = (frameBase - (ulong)size) & (_bitness == 64 ? ulong.MaxValue : mask);
                if (!ReadMem((int)SegmentIndex.SS, frameBase & mask, size, out var v) || !Push(v, size))
                {
                    _r[4] = savedSp;
                    return false;
                }
            }
            if (!Push(frameTemp, size))
            {
                _r[4] = savedSp;
                return false;
            }
        }
        var newSp = (_r[4] - op.Immediate) & mask;
        // The final stack pointer must be writable, as the processor checks it.
        if (!ToLinear((int)SegmentIndex.SS, newSp, 1, AccessWrite, out _))
        {
            _r[4] = savedSp;
            return false;
        }
        SetReg(5, size, frameTemp);
        _r[4] = (_r[4] & ~mask) | newSp;
        return Next(ref op);
    }

    private bool Leave(ref DecodedOp op)
    {
        var mask = _stackMask;
        var bp = _r[5] & mask;
        if (!ReadMem((int)SegmentIndex.SS, bp, op.Size, out var v)) return false;
        _r[4] = (_r[4] & ~mask) | ((bp + (ulong)op.Size) & mask);
        SetReg(5, op.Size, v);
        return Next(ref op);
    }

    private bool Pusha(ref DecodedOp op)
    {
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        var sp = _r[4];
        for (var i = 0; i < 8; i++)
        {
            var v = i == 4 ? GetReg(4, op.Size) : GetReg(i, op.Size);
            if (i == 4) v = sp & OperandMask(op.Size);
            if (!Push(v, op.Size))
            {
                _r[4] = sp;
                return false;
            }
        }
        return Next(ref op);
    }

    private bool Popa(ref DecodedOp op)
    {
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        var values = _frameScratch;
        for (var i = 0; i < 8; i++)
            if (!PeekStack((ulong)(i * op.Size), op.Size, out values[7 - i])) return false;
        for (var i = 0; i < 8; i++)
            if (i != 4) SetReg(i, op.Size, values[i]);
        SetStackPointer(_r[4] + (ulong)(8 * op.Size));
        return Next(ref op);
    }
}
