using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Miscellaneous instructions (SDM vol. 1, 5.1.13): LEA, NOP, XLAT, PAUSE and the fences.</summary>
public sealed unsafe partial class Processor
{
    private static bool Lea<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.EffectiveAddress(ref op));
        return p.Next(ref op);
    }

    private static bool Nop(Processor p, ref DecodedOp op) => p.Next(ref op);

    private bool TableLookupTranslation(ref DecodedOp op)
    {
        var ea = (_r[3] + (byte)_r[0]) & (ulong.MaxValue >> op.AddressShift);
        if (!ReadMem(op.Segment, ea, 1, out var v)) return false;
        SetReg(0, 1, v);
        return Next(ref op);
    }

    private bool SpinLoopHint(ref DecodedOp op)
    {
        if (Hooks != null && Intercepted(ref op, InterceptKind.Pause)) return _hookRetired;
        return Next(ref op);
    }

    private bool Fence(ref DecodedOp op)
    {
        if (op.Sub == 1 && !ReadMem(op.Segment, EffectiveAddress(ref op), 1, out _)) return false;
        return Next(ref op);
    }
}
