using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The VEX forms of the SSSE3, SSE4.1, SSE4.2, AES-NI and PCLMULQDQ instructions (SDM vol. 2, 2.3; vol. 1, 14): the
/// operation structs of the legacy forms applied to (VEX.vvvv, r/m) into ModRM.reg, each 128-bit lane of a VEX.256 form
/// on its own (AVX2 for the integer ones), bits 255:128 zeroed by a VEX.128 form; memory operands unaligned but for VMOVNTDQA.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>VPABSB, VPHMINPOSUW, VAESIMC: one source (r/m), no VEX.vvvv operand.</summary>
    private static bool VexIntegerUnary<T>(Processor p, ref DecodedOp op) where T : struct, IVectorOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var low = T.Apply(Vector128<byte>.Zero, b.GetLower());
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(Vector128<byte>.Zero, b.GetUpper()) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    private static bool VexIntegerImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IVectorImmediateOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var imm = (byte)op.Immediate;
        var low = T.Apply(a.GetLower(), b.GetLower(), imm);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(a.GetUpper(), b.GetUpper(), T.UpperLaneImmediate(imm)) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    /// <summary>VAESKEYGENASSIST xmm1, xmm2/m128, imm8: one source and the imm8.</summary>
    private static bool VexIntegerImmediateUnary<T>(Processor p, ref DecodedOp op) where T : struct, IVectorImmediateOperation
    {
        if (!p.AvxAvailable() || !p.XmmSource(ref op, 1, out var b)) return false;
        p.SetXmmZeroUpper(op.R, T.Apply(Vector128<byte>.Zero, b, (byte)op.Immediate));
        return p.Next(ref op);
    }

    /// <summary>VBLENDVPS/PD and VPBLENDVB: the mask is the register in imm8[7:4] (/is4).</summary>
    private static bool VexBlendVariable<T>(Processor p, ref DecodedOp op) where T : struct, IVectorBlendOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        var a = p.Ymm(op.Sub);
        var mask = p.Ymm((int)(op.Immediate >> 4) & 15);
        var low = T.Apply(a.GetLower(), b.GetLower(), mask.GetLower());
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(a.GetUpper(), b.GetUpper(), mask.GetUpper()) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    /// <summary>
    /// VPMOVSX/VPMOVZX: the VEX.256 form widens twice as many source bytes (a 16-byte source is an XMM register or
    /// 16 bytes of memory); the lower half of the result comes from the lower source bytes.
    /// </summary>
    private static bool VexNarrowSource<T>(Processor p, ref DecodedOp op) where T : struct, INarrowSourceOperation
    {
        if (!p.AvxAvailable()) return false;
        var bytes = op.Size == 32 ? 2 * T.SourceBytes : T.SourceBytes;
        Vector128<byte> b;
        if (bytes == 16)
        {
            if (!p.XmmSource(ref op, 1, out b)) return false;
        }
        else if (!p.NarrowSource(ref op, bytes, out b)) return false;
        var low = T.Apply(Vector128<byte>.Zero, b);
        p.Ymm(op.R) = Vector256.Create(low, op.Size == 32 ? T.Apply(Vector128<byte>.Zero, FromUInt128(ToUInt128(b) >> (8 * T.SourceBytes))) : Vector128<byte>.Zero);
        return p.Next(ref op);
    }

    /// <summary>VPTEST: PTEST over 128 or 256 bits.</summary>
    private static bool VexPackedTest(Processor p, ref DecodedOp op) => p.VexTestSigns(ref op, ulong.MaxValue);

    /// <summary>VROUNDPS/PD and VDPPS: the operation of each 128-bit lane; no result unless every lane's exceptions are masked.</summary>
    private static bool VexFloatImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IFloatVectorImmediateOperation
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var b)) return false;
        // VROUNDPS has no VEX.vvvv operand: its first operand is then unused.
        var a = op.Sub == DecodedOp.NoRegister ? Vector256<byte>.Zero : p.Ymm(op.Sub);
        uint flags = 0;
        var imm = (byte)op.Immediate;
        var low = T.Apply(a.GetLower(), b.GetLower(), imm, p._mxcsr, ref flags);
        var high = op.Size == 32 ? T.Apply(a.GetUpper(), b.GetUpper(), imm, p._mxcsr, ref flags) : Vector128<byte>.Zero;
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = Vector256.Create(low, high);
        return p.Next(ref op);
    }

    /// <summary>VROUNDSS/SD xmm1, xmm2, xmm3/m32, imm8: the rounded scalar merged into VEX.vvvv's register.</summary>
    private static bool VexScalarFloatImmediate<T>(Processor p, ref DecodedOp op) where T : struct, IScalarFloatImmediateOperation
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, T.SourceBytes, out var v)) return false;
        uint flags = 0;
        var r = T.Apply(p.Xmm(op.Sub), Vector128.CreateScalar(v).AsByte(), (byte)op.Immediate, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, r);
        return p.Next(ref op);
    }

    private static bool VexCompareExplicitLengthIndex(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 4, true);

    private static bool VexCompareExplicitLengthIndex64(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 8, true);

    private static bool VexCompareExplicitLengthMask(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 4, false);

    private static bool VexCompareExplicitLengthMask64(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 8, false);

    private static bool VexCompareImplicitLengthIndex(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 0, true);

    private static bool VexCompareImplicitLengthMask(Processor p, ref DecodedOp op) => p.VexCompareStrings(ref op, 0, false);

    /// <summary>VPCMPxSTRx (VEX.128 only): as the legacy forms; the mask form zeroes bits 255:128 of YMM0.</summary>
    private bool VexCompareStrings(ref DecodedOp op, int explicitLengths, bool index)
    {
        if (!AvxAvailable() || !XmmSource(ref op, 1, out var b)) return false;
        CompareStringsCore(Xmm(op.R), b, (byte)op.Immediate, explicitLengths, index);
        if (!index) SetXmmZeroUpper(0, Xmm(0));
        return Next(ref op);
    }
}
