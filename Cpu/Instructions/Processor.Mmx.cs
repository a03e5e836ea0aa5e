using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The MMX instructions and the SSE/SSE2 integer instructions on MMX registers (SDM vol. 1, ch. 9, 10.4.4, 11.4.3):
/// they share the 128-bit operations of Processor.SseInteger.cs on their 64-bit operands, except where lanes cross
/// the halves (pack, unpack high) which get their own handlers. MOVD/MOVQ, PMOVMSKB, PEXTRW, PINSRW, PSHUFW, EMMS.
/// </summary>
public sealed unsafe partial class Processor
{
    private static Vector128<byte> Low(ulong value) => Vector128.CreateScalar(value).AsByte();

    private static bool MmxInteger<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        p.SetMm(op.R, T.Apply(Low(p.Mm(op.R)), Low(b)).AsUInt64().ToScalar());
        return p.Next(ref op);
    }

    /// <summary>PUNPCKLBW/WD/DQ mm, mm/m32: the memory form reads the low 32 bits only.</summary>
    private static bool MmxUnpackLow<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.MmxAvailable()) return false;
        ulong b;
        if ((op.Flags & OpFlags.Memory) == 0) b = p.Mm(op.Rm);
        else if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), 4, out b)) return false;
        p.SetMm(op.R, T.Apply(Low(p.Mm(op.R)), Low(b)).AsUInt64().ToScalar());
        return p.Next(ref op);
    }

    /// <summary>PUNPCKHBW/WD/DQ mm: the interleave of the high halves is the high quadword of the low-half interleave.</summary>
    private static bool MmxUnpackHigh<TLow>(Processor p, ref DecodedOp op) where TLow : struct, IVectorOperation
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        p.SetMm(op.R, TLow.Apply(Low(p.Mm(op.R)), Low(b)).AsUInt64().GetElement(1));
        return p.Next(ref op);
    }

    /// <summary>PACKSSWB/PACKSSDW/PACKUSWB mm: the 128-bit pack of (dest, source) with itself has the MMX result in its low half.</summary>
    private static bool MmxPack<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        var both = Vector128.Create(p.Mm(op.R), b).AsByte();
        p.SetMm(op.R, T.Apply(both, both).AsUInt64().ToScalar());
        return p.Next(ref op);
    }

    private static bool MmxShiftImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.MmxAvailable()) return false;
        p.SetMm(op.Rm, T.Apply(Low(p.Mm(op.Rm)), Low(op.Immediate)).AsUInt64().ToScalar());
        return p.Next(ref op);
    }

    /// <summary>EMMS: every tag empty (SDM vol. 2, EMMS) and, as for every MMX instruction, TOP = 0 (vol. 3, 12.2, table 12-2).</summary>
    private static bool Emms(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable()) return false;
        p._fpuStatus &= 0xC7FF;
        p._fpuAbridgedTag = 0;
        return p.Next(ref op);
    }

    private static bool MoveDwordToMmx(Processor p, ref DecodedOp op) => p.MoveGprToMmx(ref op, 4);

    private static bool MoveQwordToMmx(Processor p, ref DecodedOp op) => p.MoveGprToMmx(ref op, 8);

    private bool MoveGprToMmx(ref DecodedOp op, int size)
    {
        if (!MmxAvailable() || !GprSource(ref op, size, out var v)) return false;
        SetMm(op.R, v);
        return Next(ref op);
    }

    private static bool MoveDwordFromMmx(Processor p, ref DecodedOp op) => p.MoveMmxToGpr(ref op, 4);

    private static bool MoveQwordFromMmx(Processor p, ref DecodedOp op) => p.MoveMmxToGpr(ref op, 8);

    private bool MoveMmxToGpr(ref DecodedOp op, int size)
    {
        if (!MmxAvailable() || !GprStore(ref op, size, Mm(op.R))) return false;
        EnterMmxState();
        return Next(ref op);
    }

    private static bool MoveMmxLoad(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var v)) return false;
        p.SetMm(op.R, v);
        return p.Next(ref op);
    }

    /// <summary>MOVQ mm/m64, mm and MOVNTQ m64, mm.</summary>
    private static bool MoveMmxStore(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable()) return false;
        var v = p.Mm(op.R);
        if ((op.Flags & OpFlags.Memory) != 0)
        {
            if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), 8, v)) return false;
            p.EnterMmxState();
        }
        else p.SetMm(op.Rm, v);
        return p.Next(ref op);
    }

    private static bool MoveMaskBytesMmx(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable()) return false;
        p.EnterMmxState();
        p.SetReg(op.R, 8, Vector128.ExtractMostSignificantBits(Low(p.Mm(op.Rm))) & 0xFF);
        return p.Next(ref op);
    }

    private static bool MoveMaskBytesXmm(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        p.SetReg(op.R, 8, Vector128.ExtractMostSignificantBits(p.Xmm(op.Rm)));
        return p.Next(ref op);
    }

    private static bool ExtractWordMmx(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable()) return false;
        p.EnterMmxState();
        p.SetReg(op.R, 8, (ushort)(p.Mm(op.Rm) >> (int)((op.Immediate & 3) * 16)));
        return p.Next(ref op);
    }

    private static bool ExtractWordXmm(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        p.SetReg(op.R, 8, p.Xmm(op.Rm).AsUInt16().GetElement((int)(op.Immediate & 7)));
        return p.Next(ref op);
    }

    private static bool InsertWordMmx(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable() || !p.GprSource(ref op, 2, out var w)) return false;
        var shift = (int)((op.Immediate & 3) * 16);
        p.SetMm(op.R, (p.Mm(op.R) & ~(0xFFFFUL << shift)) | ((w & 0xFFFF) << shift));
        return p.Next(ref op);
    }

    private static bool InsertWordXmm(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.GprSource(ref op, 2, out var w)) return false;
        ref var x = ref p.Xmm(op.R);
        x = x.AsUInt16().WithElement((int)(op.Immediate & 7), (ushort)w).AsByte();
        return p.Next(ref op);
    }

    private static bool ShuffleWordsMmx(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable() || !p.MmSource(ref op, out var b)) return false;
        var imm = (int)op.Immediate;
        ulong r = 0;
        for (var i = 0; i < 4; i++) r |= ((b >> (((imm >> (2 * i)) & 3) * 16)) & 0xFFFF) << (16 * i);
        p.SetMm(op.R, r);
        return p.Next(ref op);
    }

    /// <summary>MASKMOVQ and MASKMOVDQU: the bytes whose mask byte has bit 7 set go to DS:rDI (segment overridable), after checking the whole span.</summary>
    private static bool MaskedMoveMmx(Processor p, ref DecodedOp op)
    {
        if (!p.MmxAvailable()) return false;
        if (!p.MaskedMove(ref op, Low(p.Mm(op.R)), Low(p.Mm(op.Rm)), 8)) return false;
        p.EnterMmxState();
        return p.Next(ref op);
    }

    private static bool MaskedMoveXmm(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.MaskedMove(ref op, p.Xmm(op.R), p.Xmm(op.Rm), 16)) return false;
        return p.Next(ref op);
    }

    private bool MaskedMove(ref DecodedOp op, Vector128<byte> data, Vector128<byte> mask, int size)
    {
        var bits = Vector128.ExtractMostSignificantBits(mask) & (size == 8 ? 0xFFu : 0xFFFFu);
        if (bits == 0) return true;
        if (!ToLinear(op.Segment, EffectiveAddress(ref op), size, AccessWrite, out var linear) || !ProbeWrite(linear, size)) return false;
        for (var i = 0; i < size; i++)
        {
            if ((bits & (1u << i)) == 0) continue;
            var address = _bitness == 64 ? linear + (ulong)i : (uint)(linear + (ulong)i);
            if (!WriteLinear(address, 1, data.GetElement(i))) return false;
        }
        return true;
    }
}
