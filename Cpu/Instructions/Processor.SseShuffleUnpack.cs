using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The shuffles with an imm8 selector (SDM vol. 1, 10.4.4 and 11.4.1.5): SHUFPS, SHUFPD, PSHUFD, PSHUFHW, PSHUFLW.
/// The unpacks (UNPCKLPS ... PUNPCKHQDQ) are lane interleaves shared with the integer group.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool ShufflePackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        var b = source.AsUInt32();
        var imm = (int)op.Immediate;
        p.Xmm(op.R) = Vector128.Create(a.GetElement(imm & 3), a.GetElement((imm >> 2) & 3), b.GetElement((imm >> 4) & 3), b.GetElement((imm >> 6) & 3)).AsByte();
        return p.Next(ref op);
    }

    private static bool ShufflePackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        var b = source.AsUInt64();
        var imm = (int)op.Immediate;
        p.Xmm(op.R) = Vector128.Create(a.GetElement(imm & 1), b.GetElement((imm >> 1) & 1)).AsByte();
        return p.Next(ref op);
    }

    private static bool ShuffleDwords(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var source)) return false;
        var b = source.AsUInt32();
        var imm = (int)op.Immediate;
        p.Xmm(op.R) = Vector128.Create(b.GetElement(imm & 3), b.GetElement((imm >> 2) & 3), b.GetElement((imm >> 4) & 3), b.GetElement((imm >> 6) & 3)).AsByte();
        return p.Next(ref op);
    }

    private static bool ShuffleHighWords(Processor p, ref DecodedOp op) => p.ShuffleWordHalf(ref op, 1);

    private static bool ShuffleLowWords(Processor p, ref DecodedOp op) => p.ShuffleWordHalf(ref op, 0);

    /// <summary>PSHUFHW/PSHUFLW: the words of one quadword shuffled, the other quadword copied.</summary>
    private bool ShuffleWordHalf(ref DecodedOp op, int half)
    {
        if (!SseAvailable() || !XmmSource(ref op, 16, out var source)) return false;
        var q = source.AsUInt64();
        var w = q.GetElement(half);
        var imm = (int)op.Immediate;
        ulong r = 0;
        for (var i = 0; i < 4; i++) r |= ((w >> (((imm >> (2 * i)) & 3) * 16)) & 0xFFFF) << (16 * i);
        Xmm(op.R) = (half == 0 ? Vector128.Create(r, q.GetElement(1)) : Vector128.Create(q.GetElement(0), r)).AsByte();
        return Next(ref op);
    }
}
