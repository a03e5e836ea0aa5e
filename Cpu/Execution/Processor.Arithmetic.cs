using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>ADD, OR, ADC, SBB, AND, SUB, XOR, CMP (kinds 0–7, the order of their /digit): result and lazy flags.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Alu(int kind, int size, ulong a, ulong b)
    {
        ulong r;
        switch (kind)
        {
            case 0:
                r = a + b;
                SetLazy(FlagOp.Add, size, r, a, b);
                return r;
            case 1:
                r = a | b;
                SetLazy(FlagOp.Logic, size, r, a, b);
                return r;
            case 2:
            {
                var c = GetCF() ? 1UL : 0;
                r = a + b + c;
                _lazyCarryIn = c;
                SetLazy(FlagOp.Adc, size, r, a, b);
                return r;
            }
            case 3:
            {
                var c = GetCF() ? 1UL : 0;
                r = a - b - c;
                _lazyCarryIn = c;
                SetLazy(FlagOp.Sbb, size, r, a, b);
                return r;
            }
            case 4:
                r = a & b;
                SetLazy(FlagOp.Logic, size, r, a, b);
                return r;
            case 6:
                r = a ^ b;
                SetLazy(FlagOp.Logic, size, r, a, b);
                return r;
            default:
                r = a - b;
                SetLazy(FlagOp.Sub, size, r, a, b);
                return r;
        }
    }

    private bool AluMemory(ref DecodedOp op, ulong b)
    {
        var ea = EffectiveAddress(ref op);
        if (op.Sub == 7)
        {
            if (!ReadMem(op.Segment, ea, op.Size, out var v)) return false;
            Alu(7, op.Size, v, b);
            return Next(ref op);
        }
        if (!ToLinear(op.Segment, ea, op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        var r = Alu(op.Sub, op.Size, a, b);
        if (!WriteLinear(linear, op.Size, r)) return false;
        return Next(ref op);
    }

    /// <summary>The read of a read-modify-write: checks write permission first, so that a fault leaves memory and flags untouched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe bool ReadForWrite(ulong linear, int size, out ulong value)
    {
        ref var e = ref _tlbWrite[Sim.Cpu.Memory.SoftwareTlb.Slot(linear)];
        if (e.Tag == ((linear & ~0xFFFUL) ^ _tlbContext) && (linear & 0xFFF) <= (ulong)(4096 - size))
        {
            var p = (byte*)(e.Delta + (long)linear);
            value = Sim.Cpu.Memory.HostAccess.Load(p, size);
            return true;
        }
        value = 0;
        if (!ProbeWrite(linear, size)) return false;
        return ReadLinear(linear, size, out value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Unary(int kind, int size, ulong a)
    {
        ulong r;
        switch (kind)
        {
            case 0:
                r = a + 1;
                SetLazyKeepCarry(FlagOp.Inc, size, r, a);
                return r;
            case 1:
                r = a - 1;
                SetLazyKeepCarry(FlagOp.Dec, size, r, a);
                return r;
            case 2:
                return ~a;
            default:
                r = 0 - a;
                SetLazy(FlagOp.Neg, size, r, a, 0);
                return r;
        }
    }

    private bool UnaryMemory(ref DecodedOp op)
    {
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        if (!WriteLinear(linear, op.Size, Unary(op.Sub, op.Size, a))) return false;
        return Next(ref op);
    }

    /// <summary>ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR with the count masked to 5 bits (6 for 64-bit operands).</summary>
    private ulong Shift(int kind, int size, ulong value, int count)
    {
        var bits = size * 8;
        count &= size == 8 ? 0x3F : 0x1F;
        var mask = SizeMask(size);
        value &= mask;
        if (count == 0) return value;
        var sign = SignBit(size);
        ulong r;
        switch (kind)
        {
            case 0:
            {
                var n = count % bits;
                r = n == 0 ? value : ((value << n) | (value >> (bits - n))) & mask;
                var cf = (r & 1) != 0;
                var of = ((r & sign) != 0) ^ cf;
                SetStatusFlags(Rflags.CF | Rflags.OF, (cf ? Rflags.CF : 0) | (of ? Rflags.OF : 0));
                return r;
            }
            case 1:
            {
                var n = count % bits;
                r = n == 0 ? value : ((value >> n) | (value << (bits - n))) & mask;
                var cf = (r & sign) != 0;
                var of = cf ^ ((r & (sign >> 1)) != 0);
                SetStatusFlags(Rflags.CF | Rflags.OF, (cf ? Rflags.CF : 0) | (of ? Rflags.OF : 0));
                return r;
            }
            case 2:
            {
                var n = count % (bits + 1);
                var cf = GetCF();
                r = value;
                for (var i = 0; i < n; i++)
                {
                    var outBit = (r & sign) != 0;
                    r = ((r << 1) | (cf ? 1UL : 0)) & mask;
                    cf = outBit;
                }
                var of = ((r & sign) != 0) ^ cf;
                SetStatusFlags(Rflags.CF | Rflags.OF, (cf ? Rflags.CF : 0) | (of ? Rflags.OF : 0));
                return r;
            }
            case 3:
            {
                var n = count % (bits + 1);
                var cf = GetCF();
                r = value;
                var of = ((r & sign) != 0) ^ cf;
                for (var i = 0; i < n; i++)
                {
                    var outBit = (r & 1) != 0;
                    r = (r >> 1) | (cf ? sign : 0);
                    cf = outBit;
                }
                SetStatusFlags(Rflags.CF | Rflags.OF, (cf ? Rflags.CF : 0) | (of ? Rflags.OF : 0));
                return r;
            }
            case 4 or 6:
                r = count >= 64 ? 0 : (value << count) & mask;
                SetLazy(FlagOp.Shl, size, r, value, (ulong)count);
                return r;
            case 5:
                r = count >= 64 ? 0 : value >> count;
                SetLazy(FlagOp.Shr, size, r, value, (ulong)count);
                return r;
            default:
            {
                var s = (long)SignExtend(value, size);
                r = (ulong)(s >> Math.Min(count, 63)) & mask;
                SetLazy(FlagOp.Sar, size, r, value, (ulong)count);
                return r;
            }
        }
    }

    private bool ShiftMemory(ref DecodedOp op)
    {
        var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        if (!WriteLinear(linear, op.Size, Shift(op.Sub, op.Size, a, count))) return false;
        return Next(ref op);
    }

    /// <summary>SHLD (kind 0) and SHRD (kind 1). Counts above the operand size leave an undefined result (here: as if the operands were concatenated).</summary>
    private ulong ShiftDouble(int kind, int size, ulong dst, ulong src, int count)
    {
        count &= size == 8 ? 0x3F : 0x1F;
        var mask = SizeMask(size);
        dst &= mask;
        src &= mask;
        if (count == 0) return dst;
        var bits = size * 8;
        ulong r;
        bool cf;
        if (size == 2 && count > 16)
        {
            // Undefined by the SDM; Intel processors shift through the 48-bit value dst:src:dst.
            if (kind == 0)
            {
                var wide = (dst << 32) | (src << 16) | dst;
                r = ((wide << count) >> 32) & mask;
                cf = ((wide >> (48 - count)) & 1) != 0;
            }
            else
            {
                var wide = dst | (src << 16) | (dst << 32);
                r = (wide >> count) & mask;
                cf = ((wide >> (count - 1)) & 1) != 0;
            }
        }
        else if (kind == 0)
        {
            r = ((dst << count) | (count == bits ? src : src >> (bits - count))) & mask;
            cf = ((dst >> (bits - count)) & 1) != 0;
        }
        else
        {
            r = ((dst >> count) | (src << (bits - count))) & mask;
            cf = ((dst >> (count - 1)) & 1) != 0;
        }
        var sign = SignBit(size);
        var of = ((r ^ dst) & sign) != 0;
        ulong f = (cf ? Rflags.CF : 0) | (of ? Rflags.OF : 0) | Parity(r) | (r == 0 ? Rflags.ZF : 0) | ((r & sign) != 0 ? Rflags.SF : 0);
        SetStatusFlags(Rflags.Status, f);
        return r;
    }

    private bool ShiftDoubleMemory(ref DecodedOp op)
    {
        var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), op.Size, AccessWrite | AccessRead, out var linear)) return false;
        if (!ReadForWrite(linear, op.Size, out var a)) return false;
        if (!WriteLinear(linear, op.Size, ShiftDouble(op.Sub, op.Size, a, GetReg(op.R, op.Size), count))) return false;
        return Next(ref op);
    }

    /// <summary>Two- and three-operand IMUL: truncated product, CF = OF = the product does not fit.</summary>
    private ulong Imul(int size, ulong a, ulong b)
    {
        var sa = (long)SignExtend(a, size);
        var sb = (long)SignExtend(b, size);
        ulong r;
        bool overflow;
        if (size == 8)
        {
            var full = (Int128)sa * sb;
            r = (ulong)(long)full;
            overflow = full != (long)full;
        }
        else
        {
            var full = sa * sb;
            r = (ulong)full & SizeMask(size);
            overflow = full != (long)SignExtend(r, size);
        }
        SetMultiplyFlags(size, r, overflow);
        return r;
    }

    private void SetMultiplyFlags(int size, ulong low, bool overflow)
    {
        // SF, ZF, AF and PF are undefined after MUL/IMUL; they follow the low half of the result here.
        var masked = low & SizeMask(size);
        ulong f = (overflow ? Rflags.CF | Rflags.OF : 0) | Parity(masked) | (masked == 0 ? Rflags.ZF : 0)
            | ((masked & SignBit(size)) != 0 ? Rflags.SF : 0);
        SetStatusFlags(Rflags.Status, f);
    }

    /// <summary>MUL, IMUL, DIV, IDIV with the accumulator pair of the operand size; #DE on a zero divisor or quotient overflow.</summary>
    private bool MulDiv(ref DecodedOp op, ulong src)
    {
        var size = op.Size;
        var mask = SizeMask(size);
        src &= mask;
        switch (op.Sub)
        {
            case 4:
            {
                if (size == 1)
                {
                    var p = (ulong)(byte)_r[0] * src;
                    SetReg(0, 2, p);
                    SetMultiplyFlags(1, p, (p >> 8) != 0);
                }
                else
                {
                    var a = GetReg(0, size);
                    ulong hi, lo;
                    if (size == 8) hi = Math.BigMul(a, src, out lo);
                    else { var p = a * src; lo = p & mask; hi = p >> (size * 8); }
                    SetReg(0, size, lo);
                    SetReg(2, size, hi);
                    SetMultiplyFlags(size, lo, hi != 0);
                }
                return Next(ref op);
            }
            case 5:
            {
                if (size == 1)
                {
                    var p = (long)(sbyte)_r[0] * (sbyte)src;
                    SetReg(0, 2, (ulong)p);
                    SetMultiplyFlags(1, (ulong)p, p != (sbyte)p);
                }
                else
                {
                    var a = (long)SignExtend(GetReg(0, size), size);
                    var b = (long)SignExtend(src, size);
                    ulong hi, lo;
                    bool overflow;
                    if (size == 8)
                    {
                        var full = (Int128)a * b;
                        lo = (ulong)full;
                        hi = (ulong)(full >> 64);
                        overflow = full != (long)lo;
                    }
                    else
                    {
                        var p = a * b;
                        lo = (ulong)p & mask;
                        hi = ((ulong)p >> (size * 8)) & mask;
                        overflow = p != (long)SignExtend(lo, size);
                    }
                    SetReg(0, size, lo);
                    SetReg(2, size, hi);
                    SetMultiplyFlags(size, lo, overflow);
                }
                return Next(ref op);
            }
            case 6:
            {
                if (src == 0) return RaiseFault(ExceptionVector.DE, 0);
                if (size == 1)
                {
                    var dividend = (ulong)(ushort)_r[0];
                    var q = dividend / src;
                    if (q > 0xFF) return RaiseFault(ExceptionVector.DE, 0);
                    SetReg(0, 1, q);
                    SetReg(16, 1, dividend % src);
                }
                else if (size == 8)
                {
                    var dividend = ((UInt128)_r[2] << 64) | _r[0];
                    var q = dividend / src;
                    if (q > ulong.MaxValue) return RaiseFault(ExceptionVector.DE, 0);
                    _r[0] = (ulong)q;
                    _r[2] = (ulong)(dividend % src);
                }
                else
                {
                    var dividend = (GetReg(2, size) << (size * 8)) | GetReg(0, size);
                    var q = dividend / src;
                    if (q > mask) return RaiseFault(ExceptionVector.DE, 0);
                    SetReg(0, size, q);
                    SetReg(2, size, dividend % src);
                }
                return Next(ref op);
            }
            default:
            {
                if (src == 0) return RaiseFault(ExceptionVector.DE, 0);
                var divisor = (long)SignExtend(src, size);
                if (size == 8)
                {
                    var dividend = (Int128)(((UInt128)_r[2] << 64) | _r[0]);
                    // .NET throws on MinValue / -1; the quotient 2^127 overflows RAX anyway.
                    if (divisor == -1 && dividend == Int128.MinValue) return RaiseFault(ExceptionVector.DE, 0);
                    var q = dividend / divisor;
                    if (q > long.MaxValue || q < long.MinValue) return RaiseFault(ExceptionVector.DE, 0);
                    _r[0] = (ulong)(long)q;
                    _r[2] = (ulong)(long)(dividend % divisor);
                }
                else
                {
                    long dividend = size == 1 ? (short)_r[0] : (long)SignExtend((GetReg(2, size) << (size * 8)) | GetReg(0, size), size * 2);
                    if (divisor == -1 && dividend == long.MinValue) return RaiseFault(ExceptionVector.DE, 0);
                    var q = dividend / divisor;
                    var rem = dividend % divisor;
                    var limit = (long)(SignBit(size) - 1);
                    if (q > limit || q < -limit - 1) return RaiseFault(ExceptionVector.DE, 0);
                    if (size == 1)
                    {
                        SetReg(0, 1, (ulong)q);
                        SetReg(16, 1, (ulong)rem);
                    }
                    else
                    {
                        SetReg(0, size, (ulong)q);
                        SetReg(2, size, (ulong)rem);
                    }
                }
                return Next(ref op);
            }
        }
    }

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

    /// <summary>BSF (0), BSR (1), LZCNT (3), POPCNT (4).</summary>
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
            case 3:
            {
                var n = v == 0 ? bits : BitOperations.LeadingZeroCount(v) - (64 - bits);
                SetReg(op.R, size, (ulong)n);
                _flags = f | (v == 0 ? Rflags.CF : 0) | (n == 0 ? Rflags.ZF : 0);
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

    /// <summary>DAA, DAS, AAA, AAS, AAM, AAD as the SDM's pseudocode gives them; #UD in 64-bit mode.</summary>
    private bool Bcd(ref DecodedOp op)
    {
        if (_bitness == 64) return RaiseFault(ExceptionVector.UD, 0);
        var al = (byte)_r[0];
        var cf = GetCF();
        MaterializeFlags();
        var af = (_flags & Rflags.AF) != 0;
        ulong f = _flags & ~Rflags.Status;
        switch (op.Sub)
        {
            case 0:
            case 1:
            {
                var oldAl = al;
                var oldCf = cf;
                var newCf = false;
                var newAf = false;
                var das = op.Sub == 1;
                if ((al & 0xF) > 9 || af)
                {
                    newCf = oldCf || (das ? al < 6 : al > 0xF9);
                    al = (byte)(das ? al - 6 : al + 6);
                    newAf = true;
                }
                if (oldAl > 0x99 || oldCf)
                {
                    al = (byte)(das ? al - 0x60 : al + 0x60);
                    newCf = true;
                }
                SetReg(0, 1, al);
                // OF is undefined; computed as the sign change of an add/sub of the adjustment.
                var of = das ? ((oldAl ^ al) & oldAl & 0x80) != 0 : ((oldAl ^ al) & al & 0x80) != 0;
                _flags = f | (newCf ? Rflags.CF : 0) | (newAf ? Rflags.AF : 0) | Parity(al) | (al == 0 ? Rflags.ZF : 0) | ((al & 0x80) != 0 ? Rflags.SF : 0) | (of ? Rflags.OF : 0);
                return Next(ref op);
            }
            case 2:
            case 3:
            {
                // AAA: AX = AX + 106h; AAS: AX = AX - 6, AH = AH - 1 (SDM vol. 2); then AL keeps its low nibble.
                var ax = (ushort)_r[0];
                var adjust = (al & 0xF) > 9 || af;
                if (adjust) ax = op.Sub == 2 ? (ushort)(ax + 0x106) : (ushort)((((ax - 6) & 0xFFFF) - 0x100) & 0xFFFF);
                al = (byte)(ax & 0xF);
                SetReg(0, 2, (ulong)((ax & 0xFF00) | al));
                _flags = f | (adjust ? Rflags.CF | Rflags.AF : 0) | Parity(al) | (al == 0 ? Rflags.ZF : 0);
                return Next(ref op);
            }
            case 4:
            {
                var imm = (byte)op.Immediate;
                if (imm == 0) return RaiseFault(ExceptionVector.DE, 0);
                var ah = (byte)(al / imm);
                var nal = (byte)(al % imm);
                SetReg(0, 2, (ulong)((ah << 8) | nal));
                _flags = f | Parity(nal) | (nal == 0 ? Rflags.ZF : 0) | ((nal & 0x80) != 0 ? Rflags.SF : 0);
                return Next(ref op);
            }
            default:
            {
                var imm = (byte)op.Immediate;
                var ah = (byte)(_r[0] >> 8);
                var nal = (byte)(al + ah * imm);
                SetReg(0, 2, nal);
                _flags = f | Parity(nal) | (nal == 0 ? Rflags.ZF : 0) | ((nal & 0x80) != 0 ? Rflags.SF : 0);
                return Next(ref op);
            }
        }
    }
}
