using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Segment register instructions (SDM vol. 1, 5.1.11): LDS, LES, LFS, LGS, LSS, MOV and POP to a segment register, and RD/WRFSBASE, RD/WRGSBASE.</summary>
public sealed unsafe partial class Processor
{
    private bool LoadFarPointer(ref DecodedOp op)
    {
        if (!ReadFarPointer(ref op, out var selector, out var offset)) return false;
        if (!LoadDataSegment(op.Sub, selector)) return false;
        SetReg(op.R, op.Size, offset);
        if (op.Sub == (int)SegmentIndex.SS) ArmInterruptShadow(movSs: false);
        return Next(ref op);
    }

    private bool MoveToSegment(ref DecodedOp op, ushort selector)
    {
        if (!LoadDataSegment(op.R, selector)) return false;
        if (op.R == (int)SegmentIndex.SS) ArmInterruptShadow(movSs: true);
        return Next(ref op);
    }

    private bool PopSegment(ref DecodedOp op)
    {
        if (!PeekStack(0, op.Size, out var v)) return false;
        // The pop steps the stack pointer with the stack's size before the load: POP SS may change SS.B (SDM vol. 2, POP).
        var mask = _stackMask;
        var sp = (_r[4] & ~mask) | ((_r[4] + op.Size) & mask);
        if (!LoadDataSegment(op.Sub, (ushort)v)) return false;
        _r[4] = sp;
        if (op.Sub == (int)SegmentIndex.SS) ArmInterruptShadow(movSs: true);
        return Next(ref op);
    }

    private bool StoreSegmentToRegister(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, op.Size == 4 ? _seg[op.Sub].Selector : (ulong)_seg[op.Sub].Selector);
        return Next(ref op);
    }

    private bool StoreSegmentToMemory(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, _seg[op.Sub].Selector)) return false;
        return Next(ref op);
    }

    private bool LoadSegmentFromMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 2, out var v)) return false;
        return MoveToSegment(ref op, (ushort)v);
    }

    private bool AccessSegmentBase(ref DecodedOp op)
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
}
