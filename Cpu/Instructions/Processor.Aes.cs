using System.Runtime.Intrinsics;
using Iced.Intel;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>
/// AES-NI (SDM vol. 1, 12.13; vol. 2, AESDEC ... AESKEYGENASSIST) and PCLMULQDQ: AESENC, AESENCLAST, AESDEC,
/// AESDECLAST, AESIMC and AESKEYGENASSIST computed by <see cref="AesRound"/>, PCLMULQDQ by <see cref="CarryLessMultiply"/>;
/// all with the SSE availability checks and 16-byte aligned memory operands of the legacy encoding.
/// </summary>
public sealed unsafe partial class Processor
{
    private static SimdOperation[] AesOperations() =>
    [
        new(Code.Aesenc_xmm_xmmm128, Handler.Sse, &XmmInteger<AesEncryptRound>),
        new(Code.Aesenclast_xmm_xmmm128, Handler.Sse, &XmmInteger<AesEncryptLastRound>),
        new(Code.Aesdec_xmm_xmmm128, Handler.Sse, &XmmInteger<AesDecryptRound>),
        new(Code.Aesdeclast_xmm_xmmm128, Handler.Sse, &XmmInteger<AesDecryptLastRound>),
        new(Code.Aesimc_xmm_xmmm128, Handler.Sse, &XmmInteger<AesInverseMixColumns>),
        new(Code.Aeskeygenassist_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<AesKeygenAssist>),
        new(Code.Pclmulqdq_xmm_xmmm128_imm8, Handler.Sse, &XmmIntegerImmediate<CarryLessMultiplyQwords>),
    ];

    private struct AesEncryptRound : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => AesRound.Encrypt(a, b); }
    private struct AesEncryptLastRound : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => AesRound.EncryptLast(a, b); }
    private struct AesDecryptRound : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => AesRound.Decrypt(a, b); }
    private struct AesDecryptLastRound : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => AesRound.DecryptLast(a, b); }
    private struct AesInverseMixColumns : IVectorOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b) => AesRound.InverseMixColumns(b); }
    private struct AesKeygenAssist : IVectorImmediateOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm) => AesRound.KeygenAssist(b, imm); }
    private struct CarryLessMultiplyQwords : IVectorImmediateOperation { public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b, byte imm) => CarryLessMultiply.Multiply(a, b, imm); }
}
