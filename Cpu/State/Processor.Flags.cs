using System.Numerics;
using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>RFLAGS (SDM vol. 1, 3.4.3), with the status flags kept lazily: the last flag-setting operation is recorded and the flags are derived from it when read.</summary>
public sealed unsafe partial class Processor
{
    private int Iopl => (int)((_flags >> Rflags.IoplShift) & 3);

    // RFLAGS as stored; the status flags named in _lazyMask are instead derived from the last operation.
    private ulong _flags;
    private ulong _lazyMask;
    private FlagOp _lazyOp;
    private byte _lazySize;
    private ulong _lazyResult;
    private ulong _lazyDst;
    private ulong _lazySrc;

    /// <summary>RFLAGS with every lazily kept flag computed.</summary>
    public ulong Flags
    {
        get => MaterializeFlags();
        set
        {
            var vmChanged = ((value ^ _flags) & Rflags.VM) != 0;
            _flags = (value & Rflags.Implemented) | Rflags.Reserved1;
            _lazyMask = 0;
            _eventsPending = true;
            if (vmChanged) AllSegmentsChanged();
            else UpdateAlignmentCheck();
        }
    }

    private ulong MaterializeFlags()
    {
        if (_lazyMask != 0)
        {
            _flags = (_flags & ~_lazyMask) | (ComputeLazyFlags() & _lazyMask);
            _lazyMask = 0;
        }
        return _flags;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetLazy(FlagOp op, int size, ulong result, ulong dst, ulong src)
    {
        _lazyOp = op;
        _lazySize = (byte)size;
        _lazyResult = result;
        _lazyDst = dst;
        _lazySrc = src;
        _lazyMask = Rflags.Status;
    }

    /// <summary>INC and DEC leave CF as it was.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetLazyKeepCarry(FlagOp op, int size, ulong result, ulong dst)
    {
        if ((_lazyMask & Rflags.CF) != 0) _flags = (_flags & ~Rflags.CF) | (GetCF() ? Rflags.CF : 0);
        _lazyOp = op;
        _lazySize = (byte)size;
        _lazyResult = result;
        _lazyDst = dst;
        _lazySrc = 1;
        _lazyMask = Rflags.Status & ~Rflags.CF;
    }

    /// <summary>Stores the status flags given in <paramref name="mask"/> eagerly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SetStatusFlags(ulong mask, ulong values)
    {
        MaterializeFlags();
        _flags = (_flags & ~mask) | (values & mask);
    }

    private static ulong SignBit(int size) => 1UL << (size * 8 - 1);

    private static ulong SizeMask(int size) => ulong.MaxValue >> (64 - size * 8);

    private static ulong Parity(ulong result) => (BitOperations.PopCount(result & 0xFF) & 1) == 0 ? Rflags.PF : 0;

    private ulong ComputeLazyFlags()
    {
        var size = _lazySize;
        var mask = SizeMask(size);
        var sign = SignBit(size);
        var res = _lazyResult & mask;
        var dst = _lazyDst & mask;
        var src = _lazySrc & mask;
        ulong f = Parity(res);
        if (res == 0) f |= Rflags.ZF;
        if ((res & sign) != 0) f |= Rflags.SF;
        switch (_lazyOp)
        {
            case FlagOp.Add:
                if (res < dst) f |= Rflags.CF;
                if (((dst ^ res) & (src ^ res) & sign) != 0) f |= Rflags.OF;
                f |= (dst ^ src ^ res) & Rflags.AF;
                break;
            case FlagOp.Adc:
                if (res < dst || (_lazyCarryIn != 0 && res == dst)) f |= Rflags.CF;
                if (((dst ^ res) & (src ^ res) & sign) != 0) f |= Rflags.OF;
                f |= (dst ^ src ^ res) & Rflags.AF;
                break;
            case FlagOp.Sub:
                if (dst < src) f |= Rflags.CF;
                if (((dst ^ src) & (dst ^ res) & sign) != 0) f |= Rflags.OF;
                f |= (dst ^ src ^ res) & Rflags.AF;
                break;
            case FlagOp.Sbb:
                if (dst < src || (_lazyCarryIn != 0 && dst == src)) f |= Rflags.CF;
                if (((dst ^ src) & (dst ^ res) & sign) != 0) f |= Rflags.OF;
                f |= (dst ^ src ^ res) & Rflags.AF;
                break;
            case FlagOp.Logic:
                break;
            case FlagOp.Inc:
                if (res == sign) f |= Rflags.OF;
                if ((res & 0xF) == 0) f |= Rflags.AF;
                break;
            case FlagOp.Dec:
                if (res == sign - 1) f |= Rflags.OF;
                if ((res & 0xF) == 0xF) f |= Rflags.AF;
                break;
            case FlagOp.Neg:
                if (res != 0) f |= Rflags.CF;
                if (res == sign) f |= Rflags.OF;
                f |= (res ^ dst) & Rflags.AF;
                break;
            case FlagOp.Shl:
            {
                var count = (int)_lazySrc;
                var cf = count <= size * 8 && ((dst >> (size * 8 - count)) & 1) != 0;
                if (cf) f |= Rflags.CF;
                if ((((res & sign) != 0) ^ cf)) f |= Rflags.OF;
                break;
            }
            case FlagOp.Shr:
            {
                var count = (int)_lazySrc;
                if (count <= 64 && ((dst >> (count - 1)) & 1) != 0) f |= Rflags.CF;
                if ((dst & sign) != 0 && count == 1) f |= Rflags.OF;
                break;
            }
            case FlagOp.Sar:
            {
                var count = (int)_lazySrc;
                var sdst = SignExtend(dst, size);
                if (((sdst >> Math.Min(count - 1, 63)) & 1) != 0) f |= Rflags.CF;
                break;
            }
        }
        return f;
    }

    private ulong _lazyCarryIn;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GetCF()
    {
        if ((_lazyMask & Rflags.CF) == 0) return (_flags & Rflags.CF) != 0;
        var mask = SizeMask(_lazySize);
        switch (_lazyOp)
        {
            case FlagOp.Add: return (_lazyResult & mask) < (_lazyDst & mask);
            case FlagOp.Sub: return (_lazyDst & mask) < (_lazySrc & mask);
            case FlagOp.Logic: return false;
            default: return (ComputeLazyFlags() & Rflags.CF) != 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GetZF()
    {
        if ((_lazyMask & Rflags.ZF) == 0) return (_flags & Rflags.ZF) != 0;
        return (_lazyResult & SizeMask(_lazySize)) == 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool GetSF()
    {
        if ((_lazyMask & Rflags.SF) == 0) return (_flags & Rflags.SF) != 0;
        return (_lazyResult & SignBit(_lazySize)) != 0;
    }

    private bool GetOF()
    {
        if ((_lazyMask & Rflags.OF) == 0) return (_flags & Rflags.OF) != 0;
        return (ComputeLazyFlags() & Rflags.OF) != 0;
    }

    private bool GetPF()
    {
        if ((_lazyMask & Rflags.PF) == 0) return (_flags & Rflags.PF) != 0;
        return Parity(_lazyResult) != 0;
    }

    /// <summary>Evaluates condition code <paramref name="cc"/> (the low nibble of Jcc/SETcc/CMOVcc opcodes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Condition(int cc)
    {
        bool r;
        switch (cc >> 1)
        {
            case 0: r = GetOF(); break;
            case 1: r = GetCF(); break;
            case 2: r = GetZF(); break;
            case 3: r = GetCF() || GetZF(); break;
            case 4: r = GetSF(); break;
            case 5: r = GetPF(); break;
            case 6: r = GetSF() != GetOF(); break;
            default: r = GetZF() || GetSF() != GetOF(); break;
        }
        return r ^ ((cc & 1) != 0);
    }
}
