using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>MXCSR state management (SDM vol. 1, 10.4.6): LDMXCSR and STMXCSR. Setting a bit outside MXCSR_MASK raises #GP(0).</summary>
public sealed unsafe partial class Processor
{
    /// <summary>The MXCSR bits this processor implements, DAZ included (SDM vol. 1, 11.6.6): what FXSAVE reports as MXCSR_MASK.</summary>
    public const uint MxcsrMask = 0x0000_FFFF;

    private static bool LoadMxcsr(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.ReadMem(op.Segment, p.EffectiveAddress(ref op), 4, out var v)) return false;
        if ((v & ~(ulong)MxcsrMask) != 0) return p.RaiseFault(ExceptionVector.GP, 0);
        p._mxcsr = (uint)v;
        return p.Next(ref op);
    }

    private static bool StoreMxcsr(Processor p, ref DecodedOp op)
    {
        if (!p.SseOrAvxAvailable(ref op) || !p.WriteMem(op.Segment, p.EffectiveAddress(ref op), 4, p._mxcsr)) return false;
        return p.Next(ref op);
    }

    /// <summary>MOVNTI m32/m64, r: a general-register store (the non-temporal hint has no effect here), no FPU checks.</summary>
    private static bool StoreNonTemporalGpr(Processor p, ref DecodedOp op)
    {
        if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), op.Size, p.GetReg(op.R, op.Size))) return false;
        return p.Next(ref op);
    }
}
