using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Near control transfer instructions (SDM vol. 1, 5.1.7): JMP, Jcc, CALL, RET, LOOP/LOOPcc, JCXZ, ENTER, LEAVE, BOUND.</summary>
public sealed unsafe partial class Processor
{
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

    /// <summary>
    /// ENTER (SDM vol. 2, ENTER operation): the nesting level is taken mod 32; pushes and the frame
    /// pointer's reads use the stack's size, FrameTemp and rBP the operand size (BP alone for 16
    /// bits, all of ESP's value for 32), and the final stack pointer steps with the stack's size.
    /// A fault at any push or at the final stack pointer, whose write is checked, leaves the registers as they were.
    /// </summary>
    private bool Enter(ref DecodedOp op)
    {
        var size = op.Size;
        var level = op.Imm16 & 31;
        var savedSp = _r[4];
        var mask = _stackMask;
        if (!Push(GetReg(5, size), size)) return false;
        var frameTemp = _r[4] & OperandMask(size);
        if (level > 0)
        {
            var frameBase = _r[5];
            for (var i = 1; i < level; i++)
            {
                frameBase = (frameBase - (ulong)size) & mask;
                if (!ReadMem((int)SegmentIndex.SS, frameBase, size, out var v) || !Push(v, size))
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
        if (!FinalStackPointerWritable(newSp, size))
        {
            _r[4] = savedSp;
            return false;
        }
        SetReg(5, size, frameTemp);
        _r[4] = (_r[4] & ~mask) | newSp;
        return Next(ref op);
    }

    /// <summary>The write check of ENTER's final stack pointer: segmentation, then paging, as a write of the operand size that writes nothing.</summary>
    private bool FinalStackPointerWritable(ulong sp, int size)
    {
        if (!ToLinear((int)SegmentIndex.SS, sp, size, AccessWrite, out var linear)) return false;
        ref var e = ref _tlbWrite[Sim.Cpu.Memory.SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size)) return true;
        return ProbeWrite(linear, size);
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

    private static bool CallRel<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.CallTo(ref op, (p.Rip + op.Length + op.Immediate) & OperandMask(T.Bytes));

    private static bool Ret<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.PeekStack(0, T.Bytes, out var target)) return false;
        if (p._bitness == 64 ? !IsCanonical(target) : target > p._codeLimit)
            return p.RaiseFault(Registers.ExceptionVector.GP, 0);
        p.SetStackPointer(p._r[4] + (ulong)T.Bytes + op.Immediate);
        p.Rip = target;
        return true;
    }

    private static bool JmpRel<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.SetBranchTarget((p.Rip + op.Length + op.Immediate) & OperandMask(T.Bytes));

    private struct ConditionO : ICondition { public static bool Holds(Processor p) => p.GetOF(); }

    private struct ConditionNO : ICondition { public static bool Holds(Processor p) => !p.GetOF(); }

    private struct ConditionB : ICondition { public static bool Holds(Processor p) => p.GetCF(); }

    private struct ConditionAE : ICondition { public static bool Holds(Processor p) => !p.GetCF(); }

    private struct ConditionE : ICondition { public static bool Holds(Processor p) => p.GetZF(); }

    private struct ConditionNE : ICondition { public static bool Holds(Processor p) => !p.GetZF(); }

    private struct ConditionBE : ICondition { public static bool Holds(Processor p) => p.GetCF() || p.GetZF(); }

    private struct ConditionA : ICondition { public static bool Holds(Processor p) => !p.GetCF() && !p.GetZF(); }

    private struct ConditionS : ICondition { public static bool Holds(Processor p) => p.GetSF(); }

    private struct ConditionNS : ICondition { public static bool Holds(Processor p) => !p.GetSF(); }

    private struct ConditionP : ICondition { public static bool Holds(Processor p) => p.GetPF(); }

    private struct ConditionNP : ICondition { public static bool Holds(Processor p) => !p.GetPF(); }

    private struct ConditionL : ICondition { public static bool Holds(Processor p) => p.GetSF() != p.GetOF(); }

    private struct ConditionGE : ICondition { public static bool Holds(Processor p) => p.GetSF() == p.GetOF(); }

    private struct ConditionLE : ICondition { public static bool Holds(Processor p) => p.GetZF() || p.GetSF() != p.GetOF(); }

    private struct ConditionG : ICondition { public static bool Holds(Processor p) => !p.GetZF() && p.GetSF() == p.GetOF(); }

    private static bool Jcc<T>(Processor p, ref DecodedOp op) where T : struct, ICondition
    {
        if (!T.Holds(p)) return p.Next(ref op);
        p._stopBlock = true;
        return p.JumpRelative(ref op);
    }

    /// <summary>A Jcc whose taken path continues inside the block (a traced loop); the fall-through path leaves it.</summary>
    private static bool JccTaken<T>(Processor p, ref DecodedOp op) where T : struct, ICondition
    {
        if (T.Holds(p)) return p.JumpRelative(ref op);
        p._stopBlock = true;
        return p.Next(ref op);
    }

    private bool JumpMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        return JumpAbsolute(ref op, v);
    }

    private bool CallMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        return CallAbsolute(ref op, v);
    }
}
