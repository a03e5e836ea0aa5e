using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// VMASKMOVPS/VMASKMOVPD (SDM vol. 2, VMASKMOV): the sign bit of each vvvv element selects the element. A load zeroes
/// the unselected elements and a store leaves their memory alone; faults arise only from the selected elements'
/// accesses, and a store checks every selected element before it writes any, so a fault leaves memory as it was.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexMaskedLoadSingle(Processor p, ref DecodedOp op) => p.VexMaskedLoad(ref op, 4);

    private static bool VexMaskedLoadDouble(Processor p, ref DecodedOp op) => p.VexMaskedLoad(ref op, 8);

    private static bool VexMaskedStoreSingle(Processor p, ref DecodedOp op) => p.VexMaskedStore(ref op, 4);

    private static bool VexMaskedStoreDouble(Processor p, ref DecodedOp op) => p.VexMaskedStore(ref op, 8);

    /// <summary>The element-select bits of the vvvv mask: one per element of <paramref name="element"/> bytes, op.Size bytes in all.</summary>
    private uint MaskBits(ref DecodedOp op, int element)
    {
        var mask = Ymm(op.Sub);
        var bits = element == 4 ? Vector256.ExtractMostSignificantBits(mask.AsUInt32()) : Vector256.ExtractMostSignificantBits(mask.AsUInt64());
        return bits & ((1u << (op.Size / element)) - 1);
    }

    private bool VexMaskedLoad(ref DecodedOp op, int element)
    {
        if (!AvxAvailable()) return false;
        var bits = MaskBits(ref op, element);
        var ea = EffectiveAddress(ref op);
        var addressMask = ~0UL >> op.AddressShift;
        var r = Vector256<byte>.Zero;
        ref var bytes = ref Unsafe.As<Vector256<byte>, byte>(ref r);
        for (var i = 0; bits != 0; i++, bits >>= 1)
        {
            if ((bits & 1) == 0) continue;
            if (!ReadMem(op.Segment, (ea + (ulong)(i * element)) & addressMask, element, out var v)) return false;
            if (element == 4) Unsafe.WriteUnaligned(ref Unsafe.Add(ref bytes, i * 4), (uint)v);
            else Unsafe.WriteUnaligned(ref Unsafe.Add(ref bytes, i * 8), v);
        }
        Ymm(op.R) = r;
        return Next(ref op);
    }

    private bool VexMaskedStore(ref DecodedOp op, int element)
    {
        if (!AvxAvailable()) return false;
        var all = MaskBits(ref op, element);
        var ea = EffectiveAddress(ref op);
        var addressMask = ~0UL >> op.AddressShift;
        for (var (i, bits) = (0, all); bits != 0; i++, bits >>= 1)
        {
            if ((bits & 1) == 0) continue;
            if (!ToLinear(op.Segment, (ea + (ulong)(i * element)) & addressMask, element, AccessWrite, out var linear) || !ProbeWrite(linear, element)) return false;
        }
        var data = Ymm(op.R);
        for (var (i, bits) = (0, all); bits != 0; i++, bits >>= 1)
        {
            if ((bits & 1) == 0) continue;
            var v = element == 4 ? data.AsUInt32().GetElement(i) : data.AsUInt64().GetElement(i);
            if (!WriteMem(op.Segment, (ea + (ulong)(i * element)) & addressMask, element, v)) return false;
        }
        return Next(ref op);
    }
}
