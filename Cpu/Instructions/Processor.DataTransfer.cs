using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Data transfer instructions (SDM vol. 1, 5.1.1): MOV, CMOVcc, XCHG, BSWAP, XADD, CMPXCHG, CMPXCHG8B/16B, PUSH, POP, PUSHA, POPA, CBW/CWDE/CDQE, CWD/CDQ/CQO, MOVSX, MOVZX, and MOVBE.</summary>
public sealed unsafe partial class Processor
{
    private bool CompareExchangeRegister(ref DecodedOp op)
    {
        var dst = GetReg(op.Rm, op.Size);
        Alu(7, op.Size, GetReg(0, op.Size), dst);
        if (GetZF()) SetReg(op.Rm, op.Size, GetReg(op.R, op.Size));
        else SetReg(0, op.Size, dst);
        return Next(ref op);
    }

    private bool CompareExchangeMemory(ref DecodedOp op)
    {
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var dst)) return false;
        var acc = GetReg(0, op.Size);
        // The destination is always written: with the source when equal, else with its own value.
        var equal = (acc & SizeMask(op.Size)) == dst;
        if (!WriteLinear(linear, op.Size, equal ? GetReg(op.R, op.Size) : dst)) return false;
        Alu(7, op.Size, acc, dst);
        if (!equal) SetReg(0, op.Size, dst);
        return Next(ref op);
    }

    /// <summary>CMPXCHG8B (Size 4) and CMPXCHG16B (Size 8, needs a 16-byte aligned operand).</summary>
    private bool CompareExchangeDouble(ref DecodedOp op)
    {
        var half = op.Size;
        var ea = EffectiveAddress(ref op);
        if (half == 8 && (ea & 15) != 0) return RaiseFault(ExceptionVector.GP, 0);
        if (!ToLinear(op.Segment, ea, half * 2, AccessWrite | AccessRead, out var linear)) return false;
        // The operand is one quadword for alignment checking (SDM vol. 3, table 6-7), though it is accessed in halves.
        if (_alignmentCheck && (linear & (ulong)(half * 2 - 1)) != 0) return RaiseFault(ExceptionVector.AC, 0);
        if (!ProbeWrite(linear, half * 2)) return false;
        var second = _bitness == 64 ? linear + (ulong)half : (uint)(linear + (ulong)half);
        if (!ReadLinear(linear, half, out var lo) || !ReadLinear(second, half, out var hi)) return false;
        var equal = lo == GetReg(0, half) && hi == GetReg(2, half);
        MaterializeFlags();
        if (equal)
        {
            if (!WriteLinear(linear, half, GetReg(3, half)) || !WriteLinear(second, half, GetReg(1, half))) return false;
            _flags |= Rflags.ZF;
        }
        else
        {
            if (!WriteLinear(linear, half, lo) || !WriteLinear(second, half, hi)) return false;
            _flags &= ~Rflags.ZF;
            SetReg(0, half, lo);
            SetReg(2, half, hi);
        }
        return Next(ref op);
    }

    private bool ExchangeMemory(ref DecodedOp op)
    {
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var v)) return false;
        if (!WriteLinear(linear, op.Size, GetReg(op.R, op.Size))) return false;
        SetReg(op.R, op.Size, v);
        return Next(ref op);
    }

    private bool ExchangeAddMemory(ref DecodedOp op)
    {
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        var b = GetReg(op.R, op.Size);
        var r = Alu(0, op.Size, a, b);
        if (!WriteLinear(linear, op.Size, r)) return false;
        SetReg(op.R, op.Size, a);
        return Next(ref op);
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

    private static ulong ByteSwap(ulong v, int size) => size switch
    {
        8 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v),
        4 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v),
        _ => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v),
    };

    private static bool MovRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.GetReg(op.Rm, T.Bytes));
        return p.Next(ref op);
    }

    private static bool MovRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool MovMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, p.GetReg(op.R, T.Bytes))) return false;
        return p.Next(ref op);
    }

    private static bool MovRI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, op.Immediate);
        return p.Next(ref op);
    }

    private static bool MovMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, op.Immediate)) return false;
        return p.Next(ref op);
    }

    private static bool PushR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.Push(p.GetReg(op.R, T.Bytes), T.Bytes)) return false;
        return p.Next(ref op);
    }

    private static bool PopR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.Pop(T.Bytes, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool MovzxRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.GetReg(op.Rm, op.Sub));
        return p.Next(ref op);
    }

    private static bool MovzxRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), op.Sub, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool MovsxRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, SignExtend(p.GetReg(op.Rm, op.Sub), op.Sub));
        return p.Next(ref op);
    }

    private static bool MovsxRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), op.Sub, out var v)) return false;
        p.SetReg(op.R, T.Bytes, SignExtend(v, op.Sub));
        return p.Next(ref op);
    }

    private static bool CmovRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        // A 32-bit CMOV zero-extends its destination even when the condition is false.
        p.SetReg(op.R, T.Bytes, p.Condition(op.Sub) ? p.GetReg(op.Rm, T.Bytes) : p.GetReg(op.R, T.Bytes));
        return p.Next(ref op);
    }

    private bool ExchangeRegisters(ref DecodedOp op)
    {
        var a = GetReg(op.R, op.Size);
        SetReg(op.R, op.Size, GetReg(op.Rm, op.Size));
        SetReg(op.Rm, op.Size, a);
        return Next(ref op);
    }

    private bool PushMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        return PushOp(ref op, v);
    }

    private bool ConvertToWider(ref DecodedOp op)
    {
        var half = op.Size / 2;
        SetReg(0, op.Size, SignExtend(GetReg(0, half), half));
        return Next(ref op);
    }

    private bool ConvertToDoubleWidth(ref DecodedOp op)
    {
        var negative = (GetReg(0, op.Size) & SignBit(op.Size)) != 0;
        SetReg(2, op.Size, negative ? ulong.MaxValue : 0);
        return Next(ref op);
    }

    private bool ByteSwapRegister(ref DecodedOp op)
    {
        var v = GetReg(op.R, op.Size);
        SetReg(op.R, op.Size, op.Size == 8 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v)
            : op.Size == 4 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v) : 0);
        return Next(ref op);
    }

    private bool MoveBigEndianLoad(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        SetReg(op.R, op.Size, ByteSwap(v, op.Size));
        return Next(ref op);
    }

    private bool MoveBigEndianStore(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), op.Size, ByteSwap(GetReg(op.R, op.Size), op.Size))) return false;
        return Next(ref op);
    }

    private bool ConditionalMoveMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        SetReg(op.R, op.Size, Condition(op.Sub) ? v : GetReg(op.R, op.Size));
        return Next(ref op);
    }

    private bool ExchangeAddRegisters(ref DecodedOp op)
    {
        var a = GetReg(op.Rm, op.Size);
        var b = GetReg(op.R, op.Size);
        var r = Alu(0, op.Size, a, b);
        SetReg(op.R, op.Size, a);
        SetReg(op.Rm, op.Size, r);
        return Next(ref op);
    }
}
