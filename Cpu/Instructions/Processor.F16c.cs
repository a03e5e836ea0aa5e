using Iced.Intel;
using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// F16C (SDM vol. 1, 14.4.1; vol. 2, VCVTPH2PS and VCVTPS2PH): four or eight binary16 values to binary32 and back,
/// each element by <see cref="SimdFloat.HalfToSingle"/> or <see cref="SimdFloat.SingleToHalf"/>. VCVTPS2PH writes
/// 64 or 128 bits to memory, or to an XMM register whose bits above them are zeroed; an unmasked exception in any
/// element leaves the destination unwritten.
/// </summary>
public sealed unsafe partial class Processor
{
    private static SimdOperation[] F16cOperations() =>
    [
        new(Code.VEX_Vcvtph2ps_xmm_xmmm64, Handler.Avx, &VexConvertHalfToSingle),
        new(Code.VEX_Vcvtph2ps_ymm_xmmm128, Handler.Avx, &VexConvertHalfToSingle),
        new(Code.VEX_Vcvtps2ph_xmmm64_xmm_imm8, Handler.Avx, &VexConvertSingleToHalf),
        new(Code.VEX_Vcvtps2ph_xmmm128_ymm_imm8, Handler.Avx, &VexConvertSingleToHalf),
    ];

    private static bool VexConvertHalfToSingle(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        Vector128<ushort> halves;
        if (op.Size == 32)
        {
            if (!p.XmmSource(ref op, 1, out var v)) return false;
            halves = v.AsUInt16();
        }
        else
        {
            if (!p.XmmScalarSource(ref op, 8, out var q)) return false;
            halves = Vector128.CreateScalar(q).AsUInt16();
        }
        uint flags = 0;
        var r = Vector256<uint>.Zero;
        for (var i = 0; i < op.Size / 4; i++) r = r.WithElement(i, SimdFloat.HalfToSingle(halves.GetElement(i), ref flags));
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    /// <summary>A memory destination is translated and probed first, so that a faulting store leaves MXCSR as it was.</summary>
    private static bool VexConvertSingleToHalf(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        var size = op.Size / 2;
        ulong linear = 0;
        var memory = (op.Flags & OpFlags.Memory) != 0;
        if (memory && (!p.SimdAddress(ref op, size, 1, AccessWrite, out linear) || !p.ProbeWrite(linear, size))) return false;
        var singles = p.Ymm(op.R).AsUInt32();
        var imm8 = (byte)op.Immediate;
        var m = p._mxcsr;
        uint flags = 0;
        var r = Vector128<ushort>.Zero;
        for (var i = 0; i < op.Size / 4; i++) r = r.WithElement(i, SimdFloat.SingleToHalf(singles.GetElement(i), imm8, m, ref flags));
        if (!p.SimdExceptions(flags)) return false;
        if (!memory) p.SetXmmZeroUpper(op.Rm, r.AsByte());
        else if (!(size == 16 ? p.WriteLinear16(linear, r.AsByte()) : p.WriteLinear(linear, 8, r.AsUInt64().ToScalar()))) return false;
        return p.Next(ref op);
    }
}
