using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Operand access shared by all instruction groups: registers by size, effective addresses, the stack, and completing an instruction.</summary>
public sealed unsafe partial class Processor
{
    private static ulong OperandMask(int size) => size switch { 2 => 0xFFFF, 4 => 0xFFFFFFFF, _ => ulong.MaxValue };

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

    /// <summary>Completes an instruction that falls through: RIP moves past it (wrapping at the code size).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Next(ref DecodedOp op)
    {
        Rip = (Rip + op.Length) & _ripMask;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong GetReg(int r, int size)
    {
        if (size == 8) return _r[r];
        if (size == 4) return (uint)_r[r];
        if (size == 2) return (ushort)_r[r];
        return r < 16 ? (byte)_r[r] : (byte)(_r[r - 16] >> 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetReg(int r, int size, ulong value)
    {
        if (size == 8) _r[r] = value;
        else if (size == 4) _r[r] = (uint)value;
        else if (size == 2) _r[r] = (_r[r] & ~0xFFFFUL) | (ushort)value;
        else if (r < 16) _r[r] = (_r[r] & ~0xFFUL) | (byte)value;
        else _r[r - 16] = (_r[r - 16] & ~0xFF00UL) | ((ulong)(byte)value << 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong EffectiveAddress(ref DecodedOp op)
    {
        var a = (ulong)op.Displacement;
        if (op.Base != DecodedOp.NoRegister) a += op.Base == DecodedOp.RipRegister ? Rip + op.Length : _r[op.Base];
        if (op.IndexReg != DecodedOp.NoRegister) a += _r[op.IndexReg] << op.Scale;
        return a & (ulong.MaxValue >> op.AddressShift);
    }

    private void SetStackPointer(ulong value)
    {
        var mask = _stackMask;
        _r[4] = (_r[4] & ~mask) | (value & mask);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Push(ulong value, int size)
    {
        var mask = _stackMask;
        var sp = (_r[4] - (ulong)size) & mask;
        if (!WriteMem((int)SegmentIndex.SS, sp, size, value)) return false;
        _r[4] = (_r[4] & ~mask) | sp;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Pop(int size, out ulong value)
    {
        var mask = _stackMask;
        var sp = _r[4] & mask;
        if (!ReadMem((int)SegmentIndex.SS, sp, size, out value)) return false;
        _r[4] = (_r[4] & ~mask) | ((sp + (ulong)size) & mask);
        return true;
    }

    /// <summary>Reads the stack at SP + <paramref name="offset"/> without moving SP.</summary>
    private bool PeekStack(ulong offset, int size, out ulong value) =>
        ReadMem((int)SegmentIndex.SS, (_r[4] + offset) & _stackMask, size, out value);

    private bool PushOp(ref DecodedOp op, ulong value)
    {
        if (!Push(value, op.Size)) return false;
        return Next(ref op);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SignExtend(ulong value, int size) => size switch
    {
        1 => (ulong)(sbyte)value,
        2 => (ulong)(short)value,
        4 => (ulong)(int)value,
        _ => value,
    };
}
