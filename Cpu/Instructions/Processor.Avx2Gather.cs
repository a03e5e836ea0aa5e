using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 gathers (SDM vol. 2, VGATHERDPS/DPD/QPS/QPD and VPGATHERDD/DQ/QD/QQ): element j is loaded from
/// base + sign-extended index[j] × scale + displacement (VSIB: the index is a vector register, dwords or qwords) when
/// the most significant bit of mask element j (VEX.vvvv) is set. As the SDM's operation section has it: the mask bits
/// beyond the elements are zeroed and each mask element is extended from its sign first; the elements are then loaded
/// in order, each clearing its mask element as it completes, so that a fault leaves the earlier elements done and the
/// instruction restartable; at the end the whole mask is zero and the destination's bits beyond the elements are
/// zeroed. #UD when any two of destination, index and mask are the same register.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexGatherDwordIndexDwords(Processor p, ref DecodedOp op) => p.Gather(ref op, 4, 4);

    private static bool VexGatherDwordIndexQwords(Processor p, ref DecodedOp op) => p.Gather(ref op, 4, 8);

    private static bool VexGatherQwordIndexDwords(Processor p, ref DecodedOp op) => p.Gather(ref op, 8, 4);

    private static bool VexGatherQwordIndexQwords(Processor p, ref DecodedOp op) => p.Gather(ref op, 8, 8);

    private bool Gather(ref DecodedOp op, int indexSize, int dataSize)
    {
        if (!AvxAvailable()) return false;
        if (op.R == op.Sub || op.R == op.IndexReg || op.Sub == op.IndexReg) return RaiseFault(ExceptionVector.UD, 0);
        var count = op.Size / Math.Max(indexSize, dataSize);
        var used = count * dataSize;
        var destination = _vectorRegisters + op.R * VectorRegisterBytes;
        var mask = _vectorRegisters + op.Sub * VectorRegisterBytes;
        var index = _vectorRegisters + op.IndexReg * VectorRegisterBytes;
        Unsafe.InitBlockUnaligned(mask + used, 0, (uint)(VectorRegisterBytes - used));
        for (var j = 0; j < count; j++)
        {
            if (dataSize == 4) ((int*)mask)[j] >>= 31;
            else ((long*)mask)[j] >>= 63;
        }
        var baseAddress = (ulong)op.Displacement + (op.Base == DecodedOp.NoRegister ? 0 : _r[op.Base]);
        var addressMask = ulong.MaxValue >> op.AddressShift;
        for (var j = 0; j < count; j++)
        {
            if (mask[j * dataSize] != 0)
            {
                var offset = indexSize == 4 ? ((int*)index)[j] : ((long*)index)[j];
                var address = (baseAddress + ((ulong)offset << op.Scale)) & addressMask;
                if (!ReadMem(op.Segment, address, dataSize, out var v)) return false;
                if (dataSize == 4) ((uint*)destination)[j] = (uint)v;
                else ((ulong*)destination)[j] = v;
            }
            if (dataSize == 4) ((uint*)mask)[j] = 0;
            else ((ulong*)mask)[j] = 0;
        }
        Unsafe.InitBlockUnaligned(mask, 0, VectorRegisterBytes);
        Unsafe.InitBlockUnaligned(destination + used, 0, (uint)(VectorRegisterBytes - used));
        return Next(ref op);
    }
}
