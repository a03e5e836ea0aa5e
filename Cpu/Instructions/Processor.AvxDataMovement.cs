using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The VEX forms of the SSE/SSE2/SSE3 data movement (SDM vol. 2, VMOVAPS ... VMOVDDUP): whole-register moves of 16 or
/// 32 bytes (VMOVAPS/PD, VMOVDQA and VMOVNT* checking alignment to the vector length, the others not), the 3-operand
/// VMOVSS/VMOVSD and VMOVLPS/VMOVHPS merges, VMOVD/VMOVQ, the mask extractions and VMASKMOVDQU. A VEX.128 register
/// destination has bits 255:128 zeroed.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexMoveAlignedLoad(Processor p, ref DecodedOp op) => p.VexMoveLoad(ref op, op.Size);

    private static bool VexMoveUnalignedLoad(Processor p, ref DecodedOp op) => p.VexMoveLoad(ref op, 1);

    private static bool VexMoveAlignedStore(Processor p, ref DecodedOp op) => p.VexMoveStore(ref op, op.Size);

    private static bool VexMoveUnalignedStore(Processor p, ref DecodedOp op) => p.VexMoveStore(ref op, 1);

    private bool VexMoveLoad(ref DecodedOp op, int alignment)
    {
        if (!AvxAvailable() || !VectorSource(ref op, alignment, out var v)) return false;
        Ymm(op.R) = v;
        return Next(ref op);
    }

    private bool VexMoveStore(ref DecodedOp op, int alignment)
    {
        if (!AvxAvailable() || !VectorStore(ref op, alignment, Ymm(op.R))) return false;
        return Next(ref op);
    }
}
