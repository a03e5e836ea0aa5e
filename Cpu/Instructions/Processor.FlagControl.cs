using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Flag control instructions (SDM vol. 1, 5.1.10): STC, CLC, CMC, CLD, STD, LAHF, SAHF, PUSHF, POPF, STI, CLI, and STAC/CLAC; SALC.</summary>
public sealed unsafe partial class Processor
{
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
        if (((old ^ _flags) & Rflags.AC) != 0)
        {
            Tlb.FlushAll();
            UpdateAlignmentCheck();
        }
        _eventsPending = true;
        _stopBlock = true;
    }

    private bool PushFlags(ref DecodedOp op)
    {
        // SVM's PUSHF and POPF intercepts take priority over any exception (APM vol. 2, table 15-7).
        if (Hooks != null && Intercepted(ref op, InterceptKind.Pushf)) return _hookRetired;
        if (InVirtual8086Mode && Iopl < 3) return RaiseFault(ExceptionVector.GP, 0);
        var f = MaterializeFlags() & ~(Rflags.VM | Rflags.RF);
        if (!Push(f, op.Size)) return false;
        return Next(ref op);
    }

    private bool PopFlags(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Popf)) return _hookRetired;
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
            ArmInterruptShadow(movSs: false);
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

    private bool SetAlFromCarry(ref DecodedOp op)
    {
        // Undocumented but implemented by Intel processors (and QEMU, Bochs): AL = CF ? FFh : 00h; #UD in 64-bit mode.
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        SetReg(0, 1, GetCF() ? 0xFFUL : 0);
        return Next(ref op);
    }

    private bool LoadStatusFlagsIntoAh(ref DecodedOp op)
    {
        SetReg(16, 1, (MaterializeFlags() & 0xD5) | 2);
        return Next(ref op);
    }

    private bool StoreAhIntoFlags(ref DecodedOp op)
    {
        MaterializeFlags();
        _flags = (_flags & ~0xD5UL) | (GetReg(16, 1) & 0xD5);
        return Next(ref op);
    }

    private bool ComplementCarry(ref DecodedOp op)
    {
        MaterializeFlags();
        _flags ^= Rflags.CF;
        return Next(ref op);
    }

    private bool ClearCarry(ref DecodedOp op)
    {
        MaterializeFlags();
        _flags &= ~Rflags.CF;
        return Next(ref op);
    }

    private bool SetCarry(ref DecodedOp op)
    {
        MaterializeFlags();
        _flags |= Rflags.CF;
        return Next(ref op);
    }

    private bool ClearDirection(ref DecodedOp op)
    {
        _flags &= ~Rflags.DF;
        return Next(ref op);
    }

    private bool SetDirection(ref DecodedOp op)
    {
        _flags |= Rflags.DF;
        return Next(ref op);
    }
}
