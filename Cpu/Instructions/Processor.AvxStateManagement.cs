using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// VZEROUPPER and VZEROALL (SDM vol. 2): bits 255:128 (VZEROALL: all bits) of YMM0–15 cleared, of YMM0–7 outside
/// 64-bit mode, where YMM8–15 are not addressable and keep their contents. Both put AVX state (VZEROALL also SSE state)
/// in its initial configuration, so XINUSE no longer counts it as loaded by XRSTOR (SDM vol. 1, 13.6).
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexZeroUpper(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        var count = p._bitness == 64 ? VectorRegisterCount : 8;
        for (var i = 0; i < count; i++) p.SetXmmZeroUpper(i, p.Xmm(i));
        p._xinuseLoaded &= ~AvxStateComponent;
        return p.Next(ref op);
    }

    private static bool VexZeroAll(Processor p, ref DecodedOp op)
    {
        if (!p.AvxAvailable()) return false;
        var count = p._bitness == 64 ? VectorRegisterCount : 8;
        for (var i = 0; i < count; i++) p.Ymm(i) = Vector256<byte>.Zero;
        p._xinuseLoaded &= ~(SseStateComponent | AvxStateComponent);
        return p.Next(ref op);
    }
}
