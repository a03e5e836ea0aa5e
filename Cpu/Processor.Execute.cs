using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>The less frequent operations, kept out of the hot switch.</summary>
    private bool ExecuteRare(ref DecodedOp op)
    {
        switch (op.Handler)
        {
            case Handler.Ud: return RaiseFault(ExceptionVector.UD, 0);
            case Handler.FpuSse: return FpuUnavailable(ref op);
            case Handler.XchgRR:
            {
                var a = GetReg(op.R, op.Size);
                SetReg(op.R, op.Size, GetReg(op.Rm, op.Size));
                SetReg(op.Rm, op.Size, a);
                return Next(ref op);
            }
            case Handler.XchgRM: return ExchangeMemory(ref op);
            case Handler.PushI: return PushOp(ref op, op.Immediate);
            case Handler.PushM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                return PushOp(ref op, v);
            }
            case Handler.PopM: return PopMemory(ref op);
            case Handler.PushSeg: return PushOp(ref op, _seg[op.Sub].Selector);
            case Handler.PopSeg: return PopSegment(ref op);
            case Handler.MovRSeg:
                SetReg(op.R, op.Size, op.Size == 4 ? _seg[op.Sub].Selector : (ulong)_seg[op.Sub].Selector);
                return Next(ref op);
            case Handler.MovMSeg:
                if (!WriteMem(op.Segment, EffectiveAddress(ref op), 2, _seg[op.Sub].Selector)) return false;
                return Next(ref op);
            case Handler.MovSegR: return MoveToSegment(ref op, (ushort)GetReg(op.Rm, 2));
            case Handler.MovSegM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), 2, out var v)) return false;
                return MoveToSegment(ref op, (ushort)v);
            }
            case Handler.ConvertA:
            {
                var half = op.Size / 2;
                SetReg(0, op.Size, SignExtend(GetReg(0, half), half));
                return Next(ref op);
            }
            case Handler.ConvertD:
            {
                var negative = (GetReg(0, op.Size) & SignBit(op.Size)) != 0;
                SetReg(2, op.Size, negative ? ulong.MaxValue : 0);
                return Next(ref op);
            }
            case Handler.Bswap:
            {
                var v = GetReg(op.R, op.Size);
                SetReg(op.R, op.Size, op.Size == 8 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v)
                    : op.Size == 4 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v) : 0);
                return Next(ref op);
            }
            case Handler.MovbeRM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                SetReg(op.R, op.Size, ByteSwap(v, op.Size));
                return Next(ref op);
            }
            case Handler.MovbeMR:
                if (!WriteMem(op.Segment, EffectiveAddress(ref op), op.Size, ByteSwap(GetReg(op.R, op.Size), op.Size))) return false;
                return Next(ref op);
            case Handler.Salc:
                // Undocumented but implemented by Intel processors (and QEMU, Bochs): AL = CF ? FFh : 00h; #UD in 64-bit mode.
                if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
                SetReg(0, 1, GetCF() ? 0xFFUL : 0);
                return Next(ref op);
            case Handler.Lahf:
                SetReg(16, 1, (MaterializeFlags() & 0xD5) | 2);
                return Next(ref op);
            case Handler.Sahf:
                MaterializeFlags();
                _flags = (_flags & ~0xD5UL) | (GetReg(16, 1) & 0xD5);
                return Next(ref op);
            case Handler.Pushf: return PushFlags(ref op);
            case Handler.Popf: return PopFlags(ref op);
            case Handler.Cmc: MaterializeFlags(); _flags ^= Rflags.CF; return Next(ref op);
            case Handler.Clc: MaterializeFlags(); _flags &= ~Rflags.CF; return Next(ref op);
            case Handler.Stc: MaterializeFlags(); _flags |= Rflags.CF; return Next(ref op);
            case Handler.Cld: _flags &= ~Rflags.DF; return Next(ref op);
            case Handler.Std: _flags |= Rflags.DF; return Next(ref op);
            case Handler.Cli: return Cli(ref op);
            case Handler.Sti: return Sti(ref op);
            case Handler.Clac or Handler.Stac: return SetAlignmentCheck(ref op);
            case Handler.Xlat:
            {
                var ea = (_r[3] + (byte)_r[0]) & (ulong.MaxValue >> op.AddressShift);
                if (!ReadMem(op.Segment, ea, 1, out var v)) return false;
                SetReg(0, 1, v);
                return Next(ref op);
            }
            case Handler.LoadFarPointer: return LoadFarPointer(ref op);
            case Handler.Enter: return Enter(ref op);
            case Handler.Leave: return Leave(ref op);
            case Handler.Pusha: return Pusha(ref op);
            case Handler.Popa: return Popa(ref op);
            case Handler.UnaryM: return UnaryMemory(ref op);
            case Handler.ShiftR:
            {
                var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
                SetReg(op.Rm, op.Size, Shift(op.Sub, op.Size, GetReg(op.Rm, op.Size), count));
                return Next(ref op);
            }
            case Handler.ShiftM: return ShiftMemory(ref op);
            case Handler.ShiftDoubleR:
            {
                var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
                SetReg(op.Rm, op.Size, ShiftDouble(op.Sub, op.Size, GetReg(op.Rm, op.Size), GetReg(op.R, op.Size), count));
                return Next(ref op);
            }
            case Handler.ShiftDoubleM: return ShiftDoubleMemory(ref op);
            case Handler.MulDivR: return MulDiv(ref op, GetReg(op.Rm, op.Size));
            case Handler.MulDivM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                return MulDiv(ref op, v);
            }
            case Handler.Imul2R: SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.R, op.Size), GetReg(op.Rm, op.Size))); return Next(ref op);
            case Handler.Imul2M:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.R, op.Size), v));
                return Next(ref op);
            }
            case Handler.Imul3R: SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.Rm, op.Size), op.Immediate)); return Next(ref op);
            case Handler.Imul3M:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                SetReg(op.R, op.Size, Imul(op.Size, v, op.Immediate));
                return Next(ref op);
            }
            case Handler.BitR: return BitTestRegister(ref op);
            case Handler.BitM: return BitTestMemory(ref op);
            case Handler.BitScanR: return BitScan(ref op, GetReg(op.Rm, op.Size));
            case Handler.BitScanM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                return BitScan(ref op, v);
            }
            case Handler.SetccM:
                if (!WriteMem(op.Segment, EffectiveAddress(ref op), 1, Condition(op.Sub) ? 1UL : 0)) return false;
                return Next(ref op);
            case Handler.CmovRM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                SetReg(op.R, op.Size, Condition(op.Sub) ? v : GetReg(op.R, op.Size));
                return Next(ref op);
            }
            case Handler.CmpxchgR: return CompareExchangeRegister(ref op);
            case Handler.CmpxchgM: return CompareExchangeMemory(ref op);
            case Handler.Cmpxchg8bM: return CompareExchangeDouble(ref op);
            case Handler.XaddR:
            {
                var a = GetReg(op.Rm, op.Size);
                var b = GetReg(op.R, op.Size);
                var r = Alu(0, op.Size, a, b);
                SetReg(op.R, op.Size, a);
                SetReg(op.Rm, op.Size, r);
                return Next(ref op);
            }
            case Handler.XaddM: return ExchangeAddMemory(ref op);
            case Handler.Bcd: return Bcd(ref op);
            case Handler.JmpR: return JumpAbsolute(ref op, GetReg(op.Rm, op.Size));
            case Handler.JmpM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                return JumpAbsolute(ref op, v);
            }
            case Handler.CallR: return CallAbsolute(ref op, GetReg(op.Rm, op.Size));
            case Handler.CallM:
            {
                if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
                return CallAbsolute(ref op, v);
            }
            case Handler.Loop: return Loop(ref op);
            case Handler.JmpFar: return FarJump(ref op, op.Imm16, op.Immediate);
            case Handler.JmpFarM:
            {
                if (!ReadFarPointer(ref op, out var sel, out var off)) return false;
                return FarJump(ref op, sel, off);
            }
            case Handler.CallFar: return FarCall(ref op, op.Imm16, op.Immediate);
            case Handler.CallFarM:
            {
                if (!ReadFarPointer(ref op, out var sel, out var off)) return false;
                return FarCall(ref op, sel, off);
            }
            case Handler.RetFar: return FarReturn(ref op);
            case Handler.Iret: return InterruptReturn(ref op);
            case Handler.Int: return SoftwareInterrupt(ref op, (int)op.Immediate, EventKind.Software);
            case Handler.Int3: return SoftwareInterrupt(ref op, ExceptionVector.BP, EventKind.Software);
            case Handler.Into:
                if (!GetOF()) return Next(ref op);
                return SoftwareInterrupt(ref op, ExceptionVector.OF, EventKind.Software);
            case Handler.Int1: return SoftwareInterrupt(ref op, ExceptionVector.DB, EventKind.PrivilegedSoftware);
            case Handler.Bound: return Bound(ref op);
            case Handler.StringOp: return StringOperation(ref op);
            case Handler.InI: return PortIn(ref op, op.Imm16);
            case Handler.InDx: return PortIn(ref op, (ushort)_r[2]);
            case Handler.OutI: return PortOut(ref op, op.Imm16);
            case Handler.OutDx: return PortOut(ref op, (ushort)_r[2]);
            default: return ExecuteSystem(ref op);
        }
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

    private static ulong ByteSwap(ulong v, int size) => size switch
    {
        8 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v),
        4 => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v),
        _ => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)v),
    };

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
}
