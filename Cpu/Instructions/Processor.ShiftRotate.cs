using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Shift and rotate instructions (SDM vol. 1, 5.1.5): SAR, SHR, SAL/SHL, SHRD, SHLD, ROR, ROL, RCR, RCL.</summary>
public sealed unsafe partial class Processor
{
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

    private bool ShiftRegister(ref DecodedOp op)
    {
        var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
        SetReg(op.Rm, op.Size, Shift(op.Sub, op.Size, GetReg(op.Rm, op.Size), count));
        return Next(ref op);
    }

    private bool ShiftDoubleRegister(ref DecodedOp op)
    {
        var count = op.Imm16 == 0xFFFF ? (int)(_r[1] & 0xFF) : op.Imm16;
        SetReg(op.Rm, op.Size, ShiftDouble(op.Sub, op.Size, GetReg(op.Rm, op.Size), GetReg(op.R, op.Size), count));
        return Next(ref op);
    }
}
