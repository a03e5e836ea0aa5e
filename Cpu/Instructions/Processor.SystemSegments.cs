using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>System segment and descriptor-table instructions (SDM vol. 3, 2.7): LGDT, LIDT, SGDT, SIDT, LLDT, SLDT, LTR, STR, LAR, LSL, VERR, VERW, ARPL.</summary>
public sealed unsafe partial class Processor
{
    private bool LoadDescriptorTable(ref DecodedOp op)
    {
        if (!RequireCpl0()) return false;
        // The intercept precedes the operand's memory access and value checks (APM vol. 2, table 15-7; SDM vol. 3, 26.1.1).
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable)) return _hookRetired;
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
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable)) return _hookRetired;
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
        if (Hooks != null && Intercepted(ref op, new Intercept(InterceptKind.DescriptorTable) { DescriptorTableAccess = new(selector) })) return _hookRetired;
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

    private bool StoreSystemSegmentToRegister(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable)) return _hookRetired;
        SetReg(op.Rm, op.Size, op.Handler == Handler.SldtR ? Ldtr.Selector : Tr.Selector);
        return Next(ref op);
    }

    private bool StoreSystemSegmentToMemory(ref DecodedOp op)
    {
        if (!InProtectedMode || InVirtual8086Mode) return RaiseFault(ExceptionVector.UD, 0);
        if ((Cr4 & Registers.Cr4.UMIP) != 0 && Cpl > 0) return RaiseFault(ExceptionVector.GP, 0);
        if (Hooks != null && Intercepted(ref op, InterceptKind.DescriptorTable)) return _hookRetired;
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, op.Handler == Handler.SldtM ? Ldtr.Selector : Tr.Selector)) return false;
        return Next(ref op);
    }
}
