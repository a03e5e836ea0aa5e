using System.Runtime.Intrinsics;
using Iced.Intel;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>A variable blend: each element of <c>b</c> where the sign bit of the mask's element is set, else of <c>a</c>.</summary>
internal interface IVectorBlendOperation
{
    static abstract Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, Vector128<byte> mask);
}

/// <summary>An operation whose source is the low <see cref="SourceBytes"/> bytes of an XMM register or memory (PMOVSX/PMOVZX).</summary>
internal interface INarrowSourceOperation : IVectorOperation
{
    static abstract int SourceBytes { get; }
}

/// <summary>
/// The SSE4.1 integer, blend, insertion and extraction instructions (SDM vol. 1, 12.10): BLENDPS/PD, BLENDVPS/PD,
/// PBLENDVB (the mask in XMM0), PBLENDW, EXTRACTPS, INSERTPS, MOVNTDQA, MPSADBW, PACKUSDW, PCMPEQQ, PEXTRB/W/D/Q,
/// PINSRB/D/Q, PHMINPOSUW, PMAXSB/SD/UW/UD, PMINSB/SD/UW/UD, PMOVSX/PMOVZX, PMULDQ, PMULLD and PTEST. The floating-point
/// DPPS/DPPD and ROUND* are in Processor.Sse41Float.cs.
/// </summary>
public sealed unsafe partial class Processor
{
    private static SimdOperation[] Sse41Operations() =>
    [
        new(Code.Blendps_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<BlendDwords>),
        new(Code.Blendpd_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<BlendQwords>),
        new(Code.Pblendw_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<BlendWords>),
        new(Code.Blendvps_xmm_xmmm128, Handler.Sse, &XmmBlendVariable<BlendVariableDwords>),
        new(Code.Blendvpd_xmm_xmmm128, Handler.Sse, &XmmBlendVariable<BlendVariableQwords>),
        new(Code.Pblendvb_xmm_xmmm128, Handler.Sse, &XmmBlendVariable<BlendVariableBytes>),
        new(Code.Mpsadbw_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<MultipleSumAbsoluteDifferences>),
        new(Code.Packusdw_xmm_xmmm128, Handler.Sse, &XmmInteger<PackUnsignedDwords>),
        new(Code.Pcmpeqq_xmm_xmmm128, Handler.Sse, &XmmInteger<CompareEqualQwords>),
        new(Code.Phminposuw_xmm_xmmm128, Handler.Sse, &XmmInteger<HorizontalMinimumPosition>),
        new(Code.Pmaxsb_xmm_xmmm128, Handler.Sse, &XmmInteger<MaximumSignedBytes>),
        new(Code.Pmaxsd_xmm_xmmm128, Handler.Sse, &XmmInteger<MaximumSignedDwords>),
        new(Code.Pmaxuw_xmm_xmmm128, Handler.Sse, &XmmInteger<MaximumUnsignedWords>),
        new(Code.Pmaxud_xmm_xmmm128, Handler.Sse, &XmmInteger<MaximumUnsignedDwords>),
        new(Code.Pminsb_xmm_xmmm128, Handler.Sse, &XmmInteger<MinimumSignedBytes>),
        new(Code.Pminsd_xmm_xmmm128, Handler.Sse, &XmmInteger<MinimumSignedDwords>),
        new(Code.Pminuw_xmm_xmmm128, Handler.Sse, &XmmInteger<MinimumUnsignedWords>),
        new(Code.Pminud_xmm_xmmm128, Handler.Sse, &XmmInteger<MinimumUnsignedDwords>),
        new(Code.Pmuldq_xmm_xmmm128, Handler.Sse, &XmmInteger<MultiplySignedDwords>),
        new(Code.Pmulld_xmm_xmmm128, Handler.Sse, &XmmInteger<MultiplyLowDwords>),
        new(Code.Pmovsxbw_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<SignExtendBytesToWords>),
        new(Code.Pmovsxbd_xmm_xmmm32, Handler.Sse, &XmmNarrowSource<SignExtendBytesToDwords>),
        new(Code.Pmovsxbq_xmm_xmmm16, Handler.Sse, &XmmNarrowSource<SignExtendBytesToQwords>),
        new(Code.Pmovsxwd_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<SignExtendWordsToDwords>),
        new(Code.Pmovsxwq_xmm_xmmm32, Handler.Sse, &XmmNarrowSource<SignExtendWordsToQwords>),
        new(Code.Pmovsxdq_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<SignExtendDwordsToQwords>),
        new(Code.Pmovzxbw_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<ZeroExtendBytesToWords>),
        new(Code.Pmovzxbd_xmm_xmmm32, Handler.Sse, &XmmNarrowSource<ZeroExtendBytesToDwords>),
        new(Code.Pmovzxbq_xmm_xmmm16, Handler.Sse, &XmmNarrowSource<ZeroExtendBytesToQwords>),
        new(Code.Pmovzxwd_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<ZeroExtendWordsToDwords>),
        new(Code.Pmovzxwq_xmm_xmmm32, Handler.Sse, &XmmNarrowSource<ZeroExtendWordsToQwords>),
        new(Code.Pmovzxdq_xmm_xmmm64, Handler.Sse, &XmmNarrowSource<ZeroExtendDwordsToQwords>),
        new(Code.Ptest_xmm_xmmm128, Handler.Sse, &PackedTest),
        new(Code.Movntdqa_xmm_m128, Handler.Sse, &MoveXmmAlignedLoad),
        new(Code.Insertps_xmm_xmmm32_imm8, Handler.Sse, &InsertPackedSingle),
        new(Code.Extractps_rm32_xmm_imm8, Handler.Sse, &ExtractPackedSingle),
        new(Code.Extractps_r64m32_xmm_imm8, Handler.Sse, &ExtractPackedSingle),
        new(Code.Pextrb_r32m8_xmm_imm8, Handler.Sse, &ExtractByte),
        new(Code.Pextrb_r64m8_xmm_imm8, Handler.Sse, &ExtractByte),
        new(Code.Pextrw_r32m16_xmm_imm8, Handler.Sse, &ExtractWordToMemory),
        new(Code.Pextrw_r64m16_xmm_imm8, Handler.Sse, &ExtractWordToMemory),
        new(Code.Pextrd_rm32_xmm_imm8, Handler.Sse, &ExtractDword),
        new(Code.Pextrq_rm64_xmm_imm8, Handler.Sse, &ExtractQword),
        new(Code.Pinsrb_xmm_r32m8_imm8, Handler.Sse, &InsertByte),
        new(Code.Pinsrb_xmm_r64m8_imm8, Handler.Sse, &InsertByte),
        new(Code.Pinsrd_xmm_rm32_imm8, Handler.Sse, &InsertDword),
        new(Code.Pinsrq_xmm_rm64_imm8, Handler.Sse, &InsertQword),
        new(Code.Dpps_xmm_xmmm128_imm8, Handler.Sse, &XmmFloatImmediate<DotProductSingle>),
        new(Code.Dppd_xmm_xmmm128_imm8, Handler.Sse, &XmmFloatImmediate<DotProductDouble>),
        new(Code.Roundps_xmm_xmmm128_imm8, Handler.Sse, &XmmFloatImmediate<RoundPackedSingle>),
        new(Code.Roundpd_xmm_xmmm128_imm8, Handler.Sse, &XmmFloatImmediate<RoundPackedDouble>),
        new(Code.Roundss_xmm_xmmm32_imm8, Handler.Sse, &XmmScalarFloatImmediate<RoundScalarSingle>),
        new(Code.Roundsd_xmm_xmmm64_imm8, Handler.Sse, &XmmScalarFloatImmediate<RoundScalarDouble>),
    ];

    /// <summary>BLENDVPS/BLENDVPD/PBLENDVB xmm1, xmm2/m128, &lt;XMM0&gt;: the mask is XMM0 in the legacy encoding.</summary>
    private static bool XmmBlendVariable<T>(Processor p, ref DecodedOp op) where T : struct, IVectorBlendOperation
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var b)) return false;
        ref var a = ref p.Xmm(op.R);
        a = T.Apply(a, b, p.Xmm(0));
        return p.Next(ref op);
    }

    /// <summary>The narrow source of PMOVSX/PMOVZX: the low bytes of XMM(rm), or 2, 4 or 8 bytes of memory (never alignment-checked).</summary>
    private bool NarrowSource(ref DecodedOp op, int bytes, out Vector128<byte> value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            value = Xmm(op.Rm);
            return true;
        }
        value = default;
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), bytes, out var v)) return false;
        value = Vector128.CreateScalar(v).AsByte();
        return true;
    }

    private static bool XmmNarrowSource<T>(Processor p, ref DecodedOp op) where T : struct, INarrowSourceOperation
    {
        if (!p.SseAvailable() || !p.NarrowSource(ref op, T.SourceBytes, out var b)) return false;
        ref var a = ref p.Xmm(op.R);
        a = T.Apply(a, b);
        return p.Next(ref op);
    }

    /// <summary>PTEST: ZF = (a AND b) = 0, CF = (NOT a AND b) = 0; AF, OF, PF and SF cleared.</summary>
    private static bool PackedTest(Processor p, ref DecodedOp op)
    {
        if (!p.SseAvailable() || !p.XmmSource(ref op, 16, out var b)) return false;
        p.SetTestFlags(p.Xmm(op.R), b);
        return p.Next(ref op);
    }

    private void SetTestFlags(Vector128<byte> a, Vector128<byte> b)
    {
        var values = ((a & b) == Vector128<byte>.Zero ? Rflags.ZF : 0) | ((~a & b) == Vector128<byte>.Zero ? Rflags.CF : 0);
        SetStatusFlags(Rflags.Status, values);
    }

    /// <summary>
    /// INSERTPS: the source dword (imm8[7:6] of a register, the m32 itself from memory) written to lane imm8[5:4], then
    /// the lanes of imm8[3:0] zeroed.
    /// </summary>
    private static bool InsertPackedSingle(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op)) return false;
        uint value;
        if ((op.Flags & OpFlags.Memory) == 0) value = p.XmmDword(op.Rm, (int)(op.Immediate >> 6) & 3);
        else if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), 4, out var m)) return false;
        else value = (uint)m;
        p.SetXmmResult(ref op, op.R, InsertSingle(p.InsertionBase(ref op), value, (byte)op.Immediate));
        return p.Next(ref op);
    }

    private static Vector128<byte> InsertSingle(Vector128<byte> a, uint value, byte imm)
    {
        var r = a.AsUInt32().WithElement((imm >> 4) & 3, value);
        for (var i = 0; i < 4; i++)
            if ((imm & (1 << i)) != 0) r = r.WithElement(i, 0u);
        return r.AsByte();
    }

    /// <summary>A PEXTR*/EXTRACTPS result: a register destination is written zero-extended (to its 32 or 64 bits), a memory one with its own size.</summary>
    private bool ExtractTo(ref DecodedOp op, int size, ulong value)
    {
        if ((op.Flags & OpFlags.Memory) == 0)
        {
            SetReg(op.Rm, op.Size, value);
            return Next(ref op);
        }
        return WriteMem(op.Segment, EffectiveAddress(ref op), size, value) && Next(ref op);
    }

    // The extractions and insertions serve their VEX.128 forms too: VPINSRB xmm1, xmm2, r/m8 merges into VEX.vvvv's
    // register and zeroes bits 255:128 of the destination.
    private static bool ExtractPackedSingle(Processor p, ref DecodedOp op) =>
        p.SseOrAvxAvailable(ref op) && p.ExtractTo(ref op, 4, p.XmmDword(op.R, (int)op.Immediate & 3));

    private static bool ExtractByte(Processor p, ref DecodedOp op) =>
        p.SseOrAvxAvailable(ref op) && p.ExtractTo(ref op, 1, p.Xmm(op.R).GetElement((int)op.Immediate & 15));

    private static bool ExtractWordToMemory(Processor p, ref DecodedOp op) =>
        p.SseOrAvxAvailable(ref op) && p.ExtractTo(ref op, 2, p.Xmm(op.R).AsUInt16().GetElement((int)op.Immediate & 7));

    private static bool ExtractDword(Processor p, ref DecodedOp op) =>
        p.SseOrAvxAvailable(ref op) && p.ExtractTo(ref op, 4, p.XmmDword(op.R, (int)op.Immediate & 3));

    private static bool ExtractQword(Processor p, ref DecodedOp op) =>
        p.SseOrAvxAvailable(ref op) && p.ExtractTo(ref op, 8, p.XmmQword(op.R, (int)op.Immediate & 1));

    /// <summary>The register an insertion merges into: the destination, or VEX.vvvv for the VEX form.</summary>
    private Vector128<byte> InsertionBase(ref DecodedOp op) => Xmm(op.Handler == Handler.Avx ? op.Sub : op.R);

    private static bool InsertByte(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.GprSource(ref op, 1, out var v)) return false;
        p.SetXmmResult(ref op, op.R, p.InsertionBase(ref op).WithElement((int)op.Immediate & 15, (byte)v));
        return p.Next(ref op);
    }

    private static bool InsertDword(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.GprSource(ref op, 4, out var v)) return false;
        p.SetXmmResult(ref op, op.R, p.InsertionBase(ref op).AsUInt32().WithElement((int)op.Immediate & 3, (uint)v).AsByte());
        return p.Next(ref op);
    }

    private static bool InsertQword(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.GprSource(ref op, 8, out var v)) return false;
        p.SetXmmResult(ref op, op.R, p.InsertionBase(ref op).AsUInt64().WithElement((int)op.Immediate & 1, v).AsByte());
        return p.Next(ref op);
    }

    private struct BlendDwords : IVectorImmediateOperation
    {
        public static byte UpperLaneImmediate(byte imm) => (byte)(imm >> 4);

        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm) =>
            Vector128.ConditionalSelect(ImmediateMask32(imm), b.AsUInt32(), a.AsUInt32()).AsByte();
    }

    private struct BlendQwords : IVectorImmediateOperation
    {
        public static byte UpperLaneImmediate(byte imm) => (byte)(imm >> 2);

        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm)
        {
            var mask = Vector128.Create((imm & 1) != 0 ? ulong.MaxValue : 0, (imm & 2) != 0 ? ulong.MaxValue : 0);
            return Vector128.ConditionalSelect(mask, b.AsUInt64(), a.AsUInt64()).AsByte();
        }
    }

    private struct BlendWords : IVectorImmediateOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm)
        {
            var bit = Vector128.Create((ushort)1, 2, 4, 8, 16, 32, 64, 128);
            var mask = Vector128.Equals(Vector128.Create((ushort)imm) & bit, bit);
            return Vector128.ConditionalSelect(mask, b.AsUInt16(), a.AsUInt16()).AsByte();
        }
    }

    private static Vector128<uint> ImmediateMask32(int imm)
    {
        var bit = Vector128.Create(1u, 2, 4, 8);
        return Vector128.Equals(Vector128.Create((uint)imm) & bit, bit);
    }

    private struct BlendVariableDwords : IVectorBlendOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, Vector128<byte> mask) =>
            Vector128.ConditionalSelect(Vector128.LessThan(mask.AsInt32(), Vector128<int>.Zero), b.AsInt32(), a.AsInt32()).AsByte();
    }

    private struct BlendVariableQwords : IVectorBlendOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, Vector128<byte> mask) =>
            Vector128.ConditionalSelect(Vector128.LessThan(mask.AsInt64(), Vector128<long>.Zero), b.AsInt64(), a.AsInt64()).AsByte();
    }

    private struct BlendVariableBytes : IVectorBlendOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, Vector128<byte> mask) =>
            Vector128.ConditionalSelect(Vector128.LessThan(mask.AsSByte(), Vector128<sbyte>.Zero), b.AsSByte(), a.AsSByte()).AsByte();
    }

    /// <summary>
    /// MPSADBW: eight sums of absolute differences of four bytes: the destination's bytes from offset 4 × imm8[2] + i,
    /// against the source's dword imm8[1:0].
    /// </summary>
    private struct MultipleSumAbsoluteDifferences : IVectorImmediateOperation
    {
        /// <summary>VMPSADBW ymm: the upper lane's offsets are imm8[5] and imm8[4:3].</summary>
        public static byte UpperLaneImmediate(byte imm) => (byte)(imm >> 3);

        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm)
        {
            var first = (imm & 4) != 0 ? 4 : 0;
            var second = (imm & 3) * 4;
            var r = Vector128<ushort>.Zero;
            for (var i = 0; i < 8; i++)
            {
                var sum = 0;
                for (var k = 0; k < 4; k++) sum += Math.Abs(a[first + i + k] - b[second + k]);
                r = r.WithElement(i, (ushort)sum);
            }
            return r.AsByte();
        }
    }

    private struct PackUnsignedDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var lo = Vector128.Clamp(a.AsInt32(), Vector128<int>.Zero, Vector128.Create(0xFFFF));
            var hi = Vector128.Clamp(b.AsInt32(), Vector128<int>.Zero, Vector128.Create(0xFFFF));
            return Vector128.Narrow(lo.AsUInt32(), hi.AsUInt32()).AsByte();
        }
    }

    private struct CompareEqualQwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Equals(a.AsUInt64(), b.AsUInt64()).AsByte(); }

    /// <summary>PHMINPOSUW: the smallest unsigned word of the source (the lowest index of equal ones) in bits 15:0, its index in 18:16, the rest zero.</summary>
    private struct HorizontalMinimumPosition : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var w = b.AsUInt16();
            var index = 0;
            for (var i = 1; i < 8; i++)
                if (w[i] < w[index]) index = i;
            return Vector128.CreateScalar((uint)w[index] | ((uint)index << 16)).AsByte();
        }
    }

    private struct MaximumSignedBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a.AsSByte(), b.AsSByte()).AsByte(); }
    private struct MaximumSignedDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a.AsInt32(), b.AsInt32()).AsByte(); }
    private struct MaximumUnsignedWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    private struct MaximumUnsignedDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Max(a.AsUInt32(), b.AsUInt32()).AsByte(); }
    private struct MinimumSignedBytes : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a.AsSByte(), b.AsSByte()).AsByte(); }
    private struct MinimumSignedDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a.AsInt32(), b.AsInt32()).AsByte(); }
    private struct MinimumUnsignedWords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a.AsUInt16(), b.AsUInt16()).AsByte(); }
    private struct MinimumUnsignedDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.Min(a.AsUInt32(), b.AsUInt32()).AsByte(); }

    /// <summary>PMULDQ: the even signed dwords multiplied to signed quadwords.</summary>
    private struct MultiplySignedDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var x = a.AsInt32();
            var y = b.AsInt32();
            return Vector128.Create((long)x[0] * y[0], (long)x[2] * y[2]).AsByte();
        }
    }

    private struct MultiplyLowDwords : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => (a.AsUInt32() * b.AsUInt32()).AsByte(); }

    private struct SignExtendBytesToWords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b.AsSByte()).AsByte(); }
    private struct SignExtendWordsToDwords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b.AsInt16()).AsByte(); }
    private struct SignExtendDwordsToQwords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b.AsInt32()).AsByte(); }
    private struct SignExtendBytesToDwords : INarrowSourceOperation { public static int SourceBytes => 4; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(b.AsSByte())).AsByte(); }
    private struct SignExtendWordsToQwords : INarrowSourceOperation { public static int SourceBytes => 4; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(b.AsInt16())).AsByte(); }
    private struct SignExtendBytesToQwords : INarrowSourceOperation { public static int SourceBytes => 2; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(Vector128.WidenLower(b.AsSByte()))).AsByte(); }
    private struct ZeroExtendBytesToWords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b).AsByte(); }
    private struct ZeroExtendWordsToDwords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b.AsUInt16()).AsByte(); }
    private struct ZeroExtendDwordsToQwords : INarrowSourceOperation { public static int SourceBytes => 8; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(b.AsUInt32()).AsByte(); }
    private struct ZeroExtendBytesToDwords : INarrowSourceOperation { public static int SourceBytes => 4; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(b)).AsByte(); }
    private struct ZeroExtendWordsToQwords : INarrowSourceOperation { public static int SourceBytes => 4; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(b.AsUInt16())).AsByte(); }
    private struct ZeroExtendBytesToQwords : INarrowSourceOperation { public static int SourceBytes => 2; public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => Vector128.WidenLower(Vector128.WidenLower(Vector128.WidenLower(b))).AsByte(); }
}
