using System.Runtime.Intrinsics;
using Iced.Intel;
using Sim.Cpu.Registers;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// The SSE4.2 instructions (SDM vol. 1, 12.12): the packed string comparisons PCMPESTRI, PCMPESTRM, PCMPISTRI and
/// PCMPISTRM (computed by <see cref="PackedStringCompare"/>; their memory operand need not be aligned), PCMPGTQ and
/// CRC32. CRC32 is an integer instruction: CR0 and CR4 do not gate it.
/// </summary>
public sealed unsafe partial class Processor
{
    private static SimdOperation[] Sse42Operations() =>
    [
        new(Code.Pcmpestri_xmm_xmmm128_imm8, Handler.Sse, &CompareExplicitLengthIndex),
        new(Code.Pcmpestri64_xmm_xmmm128_imm8, Handler.Sse, &CompareExplicitLengthIndex64),
        new(Code.Pcmpestrm_xmm_xmmm128_imm8, Handler.Sse, &CompareExplicitLengthMask),
        new(Code.Pcmpestrm64_xmm_xmmm128_imm8, Handler.Sse, &CompareExplicitLengthMask64),
        new(Code.Pcmpistri_xmm_xmmm128_imm8, Handler.Sse, &CompareImplicitLengthIndex),
        new(Code.Pcmpistrm_xmm_xmmm128_imm8, Handler.Sse, &CompareImplicitLengthMask),
        new(Code.Pcmpgtq_xmm_xmmm128, Handler.Sse, &XmmInteger<CompareGreaterQwords>),
        new(Code.Crc32_r32_rm8, Handler.SimdState, &Crc32Byte),
        new(Code.Crc32_r64_rm8, Handler.SimdState, &Crc32Byte),
        new(Code.Crc32_r32_rm16, Handler.SimdState, &Crc32Word),
        new(Code.Crc32_r32_rm32, Handler.SimdState, &Crc32Dword),
        new(Code.Crc32_r64_rm64, Handler.SimdState, &Crc32Qword),
    ];

    private struct CompareGreaterQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.GreaterThan(a.AsInt64(), b.AsInt64()).AsByte(); }

    private static bool CompareExplicitLengthIndex(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 4, index: true);

    private static bool CompareExplicitLengthIndex64(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 8, index: true);

    private static bool CompareExplicitLengthMask(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 4, index: false);

    private static bool CompareExplicitLengthMask64(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 8, index: false);

    private static bool CompareImplicitLengthIndex(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 0, index: true);

    private static bool CompareImplicitLengthMask(Processor p, ref DecodedOp op) => p.CompareStrings(ref op, explicitLengths: 0, index: false);

    /// <summary>
    /// PCMPxSTRx: lengths from EAX and EDX (RAX and RDX with REX.W, <paramref name="explicitLengths"/> = 8) or from the
    /// first zero element (0); the index to ECX or the mask to XMM0; the flags of <see cref="PackedStringCompare.Flags"/>.
    /// </summary>
    private bool CompareStrings(ref DecodedOp op, int explicitLengths, bool index)
    {
        if (!SseAvailable() || !XmmSource(ref op, 1, out var b)) return false;
        CompareStringsCore(Xmm(op.R), b, (byte)op.Immediate, explicitLengths, index);
        return Next(ref op);
    }

    /// <summary>The comparison and its results, shared with the VEX.128 forms.</summary>
    private void CompareStringsCore(Vector128<byte> a, Vector128<byte> b, int imm, int explicitLengths, bool index)
    {
        int la, lb;
        if (explicitLengths == 8)
        {
            la = PackedStringCompare.ExplicitLength((long)_r[0], imm);
            lb = PackedStringCompare.ExplicitLength((long)_r[2], imm);
        }
        else if (explicitLengths == 4)
        {
            la = PackedStringCompare.ExplicitLength((int)_r[0], imm);
            lb = PackedStringCompare.ExplicitLength((int)_r[2], imm);
        }
        else
        {
            la = PackedStringCompare.ImplicitLength(a, imm);
            lb = PackedStringCompare.ImplicitLength(b, imm);
        }
        var result = PackedStringCompare.Compare(a, la, b, lb, imm);
        if (index) _r[1] = PackedStringCompare.Index(result, imm);
        else Xmm(0) = PackedStringCompare.Mask(result, imm);
        SetStatusFlags(Rflags.Status, PackedStringCompare.Flags(result, la, lb, imm));
    }

    private static bool Crc32Byte(Processor p, ref DecodedOp op) => p.Crc32(ref op, 1);

    private static bool Crc32Word(Processor p, ref DecodedOp op) => p.Crc32(ref op, 2);

    private static bool Crc32Dword(Processor p, ref DecodedOp op) => p.Crc32(ref op, 4);

    private static bool Crc32Qword(Processor p, ref DecodedOp op) => p.Crc32(ref op, 8);

    /// <summary>CRC32 r32/r64, r/m: the destination's low 32 bits accumulate the source; the result is written zero-extended.</summary>
    private bool Crc32(ref DecodedOp op, int bytes)
    {
        ulong data;
        if ((op.Flags & OpFlags.Memory) == 0) data = GetReg(op.Rm, bytes);
        else if (!ReadMem(op.Segment, EffectiveAddress(ref op), bytes, out data)) return false;
        _r[op.R] = Crc32C.Accumulate((uint)_r[op.R], data, bytes);
        return Next(ref op);
    }
}
