using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The VEX shuffles with an imm8 selector (SDM vol. 2, VSHUFPS, VSHUFPD, VPSHUFD, VPSHUFHW, VPSHUFLW): each 128-bit lane
/// is shuffled as the legacy form shuffles its register, with the same imm8 (VSHUFPD ymm takes imm8[3:2] for the upper
/// lane). VSHUFPS/PD take the first two results from vvvv, the last two from r/m.
/// </summary>
public sealed unsafe partial class Processor
{
    private static Vector128<byte> ShuffleSingles(Vector128<byte> x, Vector128<byte> y, int imm)
    {
        var a = x.AsUInt32();
        var b = y.AsUInt32();
        return Vector128.Create(a.GetElement(imm & 3), a.GetElement((imm >> 2) & 3), b.GetElement((imm >> 4) & 3), b.GetElement((imm >> 6) & 3)).AsByte();
    }

    private static Vector128<byte> ShuffleDoubles(Vector128<byte> x, Vector128<byte> y, int imm) =>
        Vector128.Create(x.AsUInt64().GetElement(imm & 1), y.AsUInt64().GetElement((imm >> 1) & 1)).AsByte();

    private static Vector128<byte> ShuffleWordsOfHalf(Vector128<byte> v, int imm, int half)
    {
        var q = v.AsUInt64();
        var w = q.GetElement(half);
        ulong r = 0;
        for (var i = 0; i < 4; i++) r |= ((w >> (((imm >> (2 * i)) & 3) * 16)) & 0xFFFF) << (16 * i);
        return q.WithElement(half, r).AsByte();
    }

    private static bool VexShufflePackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var imm = (int)op.Immediate;
        var low = ShuffleSingles(a.GetLower(), b.GetLower(), imm);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? ShuffleSingles(a.GetUpper(), b.GetUpper(), imm) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    private static bool VexShufflePackedDouble(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var imm = (int)op.Immediate;
        var low = ShuffleDoubles(a.GetLower(), b.GetLower(), imm);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? ShuffleDoubles(a.GetUpper(), b.GetUpper(), imm >> 2) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    private static bool VexShuffleDwords(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var imm = (int)op.Immediate;
        var low = ShuffleSingles(b.GetLower(), b.GetLower(), imm);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? ShuffleSingles(b.GetUpper(), b.GetUpper(), imm) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    private static bool VexShuffleHighWords(Processor p, ref DecodedOp op) => p.VexShuffleWordHalf(ref op, 1);

    private static bool VexShuffleLowWords(Processor p, ref DecodedOp op) => p.VexShuffleWordHalf(ref op, 0);

    private bool VexShuffleWordHalf(ref DecodedOp op, int half)
    {
        if (!AvxAvailable() || !VectorSource(ref op, 1, out var b)) return false;
        var imm = (int)op.Immediate;
        var low = ShuffleWordsOfHalf(b.GetLower(), imm, half);
        Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? ShuffleWordsOfHalf(b.GetUpper(), imm, half) : Vector128<byte>.Zero);
        return Next(ref op);
    }
}
