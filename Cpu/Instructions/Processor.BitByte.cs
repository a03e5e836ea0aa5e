using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Bit and byte instructions (SDM vol. 1, 5.1.6): BT, BTS, BTR, BTC, BSF, BSR, SETcc, TEST, and POPCNT, LZCNT, TZCNT.</summary>
public sealed unsafe partial class Processor
{
    private ulong BitOperation(int kind, ulong value, int bit)
    {
        var m = 1UL << bit;
        MaterializeFlags();
        _flags = (_flags & ~Rflags.CF) | ((value & m) != 0 ? Rflags.CF : 0);
        return kind switch { 1 => value | m, 2 => value & ~m, 3 => value ^ m, _ => value };
    }

    private bool BitTestRegister(ref DecodedOp op)
    {
        var bits = op.Size * 8;
        var bit = (int)((op.R != DecodedOp.NoRegister ? GetReg(op.R, op.Size) : op.Immediate) & (ulong)(bits - 1));
        var r = BitOperation(op.Sub, GetReg(op.Rm, op.Size), bit);
        if (op.Sub != 0) SetReg(op.Rm, op.Size, r);
        return Next(ref op);
    }

    /// <summary>BT/BTS/BTR/BTC on memory: a register bit offset is signed and may address outside the operand.</summary>
    private bool BitTestMemory(ref DecodedOp op)
    {
        var ea = EffectiveAddress(ref op);
        int bit;
        if (op.R != DecodedOp.NoRegister)
        {
            var offset = (long)SignExtend(GetReg(op.R, op.Size), op.Size);
            var bits = op.Size * 8;
            var unit = offset >> (op.Size == 2 ? 4 : op.Size == 4 ? 5 : 6);
            ea = (ea + (ulong)(unit * op.Size)) & (ulong.MaxValue >> op.AddressShift);
            bit = (int)(offset & (bits - 1));
        }
        else bit = (int)(op.Immediate & (ulong)(op.Size * 8 - 1));
        if (op.Sub == 0)
        {
            if (!ReadMem(op.Segment, ea, op.Size, out var v)) return false;
            BitOperation(0, v, bit);
            return Next(ref op);
        }
        if (!ToLinear(op.Segment, ea, op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        if (!WriteLinear(linear, op.Size, BitOperation(op.Sub, a, bit))) return false;
        return Next(ref op);
    }

    /// <summary>
    /// BSF (0), BSR (1), TZCNT (2), LZCNT (3), POPCNT (4). TZCNT and LZCNT return the operand size in bits for a zero
    /// source, set CF when the source is zero and ZF when the result is; of the flags the SDM leaves undefined, OF
    /// keeps its value and SF, AF and PF are cleared, as on AMD Zen 3 (measured).
    /// </summary>
    private bool BitScan(ref DecodedOp op, ulong v)
    {
        var size = op.Size;
        v &= SizeMask(size);
        var bits = size * 8;
        MaterializeFlags();
        var f = _flags & ~Rflags.Status;
        switch (op.Sub)
        {
            case 0 or 1:
                if (v == 0)
                {
                    // The destination is left unchanged (as on Intel and AMD); the other flags are undefined, cleared here.
                    _flags = f | Rflags.ZF;
                    return Next(ref op);
                }
                var idx = op.Sub == 0 ? BitOperations.TrailingZeroCount(v) : 63 - BitOperations.LeadingZeroCount(v);
                SetReg(op.R, size, (ulong)idx);
                _flags = f | Parity((ulong)idx);
                return Next(ref op);
            case 2 or 3:
            {
                var n = v == 0 ? bits : op.Sub == 2 ? BitOperations.TrailingZeroCount(v) : BitOperations.LeadingZeroCount(v) - (64 - bits);
                SetReg(op.R, size, (ulong)n);
                _flags = f | (_flags & Rflags.OF) | (v == 0 ? Rflags.CF : 0) | (n == 0 ? Rflags.ZF : 0);
                return Next(ref op);
            }
            default:
            {
                var n = BitOperations.PopCount(v);
                SetReg(op.R, size, (ulong)n);
                _flags = f | (v == 0 ? Rflags.ZF : 0);
                return Next(ref op);
            }
        }
    }

    private static bool TestRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        AndOperation.Apply(p, T.Bytes, p.GetReg(op.R, T.Bytes), p.GetReg(op.Rm, T.Bytes));
        return p.Next(ref op);
    }

    private static bool TestRI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        AndOperation.Apply(p, T.Bytes, p.GetReg(op.R, T.Bytes), op.Immediate);
        return p.Next(ref op);
    }

    private static bool TestMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var a)) return false;
        AndOperation.Apply(p, T.Bytes, a, p.GetReg(op.R, T.Bytes));
        return p.Next(ref op);
    }

    private static bool TestMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var a)) return false;
        AndOperation.Apply(p, T.Bytes, a, op.Immediate);
        return p.Next(ref op);
    }

    private static bool SetccR(Processor p, ref DecodedOp op)
    {
        p.SetReg(op.Rm, 1, p.Condition(op.Sub) ? 1UL : 0);
        return p.Next(ref op);
    }

    private bool BitScanMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        return BitScan(ref op, v);
    }

    private bool SetByteOnConditionMemory(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 1, Condition(op.Sub) ? 1UL : 0)) return false;
        return Next(ref op);
    }
}
