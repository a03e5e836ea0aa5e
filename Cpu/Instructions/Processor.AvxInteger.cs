using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The VEX forms of the SSE2 integer instructions (SDM vol. 1, 14.3 and 14.7): the <see cref="IVectorOperation"/> of
/// the legacy form applied to (vvvv, r/m) into ModRM.reg. A 256-bit form (AVX2) is in-lane: the operation applies to
/// each 128-bit half; a VEX.128 form zeroes bits 255:128 of the destination. A form without vvvv (VPABSB ...) passes
/// zero as the first operand.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexInteger<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.VexFirstSource(ref op);
        var low = T.Apply(a.GetLower(), b.GetLower());
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(a.GetUpper(), b.GetUpper()) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    /// <summary>VPSLLW xmm1/ymm1, xmm2/ymm2, imm8 and kin: the destination is VEX.vvvv, the source ModRM.r/m.</summary>
    private static bool VexShiftImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.AvxAvailable()) return false;
        var a = p.Ymm(op.Rm);
        var count = Vector128.CreateScalar(op.Immediate).AsByte();
        var low = T.Apply(a.GetLower(), count);
        p.Ymm(op.Sub) = Vector256.Create(low, op.Size == 32 ? T.Apply(a.GetUpper(), count) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    /// <summary>VPSLLW ymm1, ymm2, xmm3/m128 and kin: the count is the low quadword of a 128-bit operand for both halves.</summary>
    private static bool VexShiftByXmm<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var count)) return false;
        var a = p.Ymm(op.Sub);
        var low = T.Apply(a.GetLower(), count);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(a.GetUpper(), count) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }
}
