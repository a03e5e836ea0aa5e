using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Binary arithmetic instructions (SDM vol. 1, 5.1.2): ADD, ADC, SUB, SBB, CMP, INC, DEC, NEG, MUL, IMUL, DIV, IDIV; NOT shares the unary path.</summary>
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

    private static bool AluMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.AluMemory(ref op, p.GetReg(op.R, T.Bytes));

    private static bool AluMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.AluMemory(ref op, op.Immediate);

    private static bool UnaryR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.Rm, T.Bytes, p.Unary(op.Sub, T.Bytes, p.GetReg(op.Rm, T.Bytes)));
        return p.Next(ref op);
    }

    private struct AddOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a + b;
            p.SetLazy(FlagOp.Add, size, r, a, b);
            return r;
        }
    }

    private struct SubOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a - b;
            p.SetLazy(FlagOp.Sub, size, r, a, b);
            return r;
        }
    }

    private struct CmpOperation : IAluOperation
    {
        public static bool WritesResult => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a - b;
            p.SetLazy(FlagOp.Sub, size, r, a, b);
            return r;
        }
    }

    /// <summary>ADC and SBB keep the generic path: they need the carry in.</summary>
    private struct AdcOperation : IAluOperation
    {
        public static bool WritesResult => true;

        public static ulong Apply(Processor p, int size, ulong a, ulong b) => p.Alu(2, size, a, b);
    }

    private struct SbbOperation : IAluOperation
    {
        public static bool WritesResult => true;

        public static ulong Apply(Processor p, int size, ulong a, ulong b) => p.Alu(3, size, a, b);
    }

    private static bool AluRR<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), p.GetReg(op.Rm, TSize.Bytes));
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
        return p.Next(ref op);
    }

    private static bool AluRI<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), op.Immediate & SizeMask(TSize.Bytes));
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
        return p.Next(ref op);
    }

    private static bool AluRM<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), TSize.Bytes, out var b)) return false;
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), b);
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
        return p.Next(ref op);
    }

    private bool MulDivMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        return MulDiv(ref op, v);
    }

    private bool SignedMultiplyRegister(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.R, op.Size), GetReg(op.Rm, op.Size)));
        return Next(ref op);
    }

    private bool SignedMultiplyMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.R, op.Size), v));
        return Next(ref op);
    }

    private bool SignedMultiplyImmediateRegister(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, Imul(op.Size, GetReg(op.Rm, op.Size), op.Immediate));
        return Next(ref op);
    }

    private bool SignedMultiplyImmediateMemory(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        SetReg(op.R, op.Size, Imul(op.Size, v, op.Immediate));
        return Next(ref op);
    }
}
