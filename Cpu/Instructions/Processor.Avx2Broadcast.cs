using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 broadcasts (SDM vol. 2, VPBROADCASTB/W/D/Q, VBROADCASTI128, and VBROADCASTSS/SD with a register source):
/// the low element of an XMM register or an element from memory copied to every element of the destination; a
/// VEX.128 destination has bits 255:128 zeroed.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexBroadcastByte(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 1, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create((byte)v));
        return p.Next(ref op);
    }

    private static bool VexBroadcastWord(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 2, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create((ushort)v).AsByte());
        return p.Next(ref op);
    }

    private static bool VexBroadcastDword(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create((uint)v).AsByte());
        return p.Next(ref op);
    }

    private static bool VexBroadcastQword(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var v)) return false;
        p.SetVector(op.R, op.Size, Vector256.Create(v).AsByte());
        return p.Next(ref op);
    }

    /// <summary>VBROADCASTI128 ymm1, m128: the 16 bytes in both halves.</summary>
    private static bool VexBroadcast128(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var v)) return false;
        p.Ymm(op.R) = Vector256.Create(v, v);
        return p.Next(ref op);
    }
}
