using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 integer broadcasts (SDM vol. 2, VPBROADCASTB/W/D/Q): the low element of an XMM register or an element from
/// memory copied to every element of the destination; a VEX.128 destination has bits 255:128 zeroed. VBROADCASTI128 and
/// the register forms of VBROADCASTSS/SD are AVX's broadcast handlers.
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
}
