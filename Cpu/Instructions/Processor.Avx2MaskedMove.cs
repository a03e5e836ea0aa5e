using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// VPMASKMOVD and VPMASKMOVQ (SDM vol. 2, VPMASKMOV): the elements whose mask element (VEX.vvvv) has its most
/// significant bit set are loaded (the others become zero) or stored (the others keep memory as it is). Only the
/// selected elements are accessed, so a masked-off element never faults; a store checks every selected element before
/// writing any, so a fault leaves memory unchanged.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool VexMaskedLoadDwords(Processor p, ref DecodedOp op) => p.MaskedLoad(ref op, 4);

    private static bool VexMaskedLoadQwords(Processor p, ref DecodedOp op) => p.MaskedLoad(ref op, 8);

    private static bool VexMaskedStoreDwords(Processor p, ref DecodedOp op) => p.MaskedStore(ref op, 4);

    private static bool VexMaskedStoreQwords(Processor p, ref DecodedOp op) => p.MaskedStore(ref op, 8);

    private static bool MaskSelects(Vector256<byte> mask, int element, int size) => (sbyte)mask.GetElement(element * size + size - 1) < 0;

    private bool MaskedLoad(ref DecodedOp op, int size)
    {
        if (!AvxAvailable()) return false;
        var mask = Ymm(op.Sub);
        var address = EffectiveAddress(ref op);
        var addressMask = ulong.MaxValue >> op.AddressShift;
        var r = Vector256<ulong>.Zero;
        for (var i = 0; i < op.Size / size; i++)
        {
            if (!MaskSelects(mask, i, size)) continue;
            if (!ReadMem(op.Segment, (address + (ulong)(i * size)) & addressMask, size, out var v)) return false;
            r = size == 8 ? r.WithElement(i, v) : r.AsUInt32().WithElement(i, (uint)v).AsUInt64();
        }
        Ymm(op.R) = r.AsByte();
        return Next(ref op);
    }

    private bool MaskedStore(ref DecodedOp op, int size)
    {
        if (!AvxAvailable()) return false;
        var mask = Ymm(op.Sub);
        var source = Ymm(op.R);
        var address = EffectiveAddress(ref op);
        var addressMask = ulong.MaxValue >> op.AddressShift;
        var count = op.Size / size;
        for (var i = 0; i < count; i++)
        {
            if (!MaskSelects(mask, i, size)) continue;
            if (!ToLinear(op.Segment, (address + (ulong)(i * size)) & addressMask, size, AccessWrite, out var linear) || !ProbeWrite(linear, size)) return false;
        }
        for (var i = 0; i < count; i++)
        {
            if (!MaskSelects(mask, i, size)) continue;
            var v = size == 8 ? source.AsUInt64().GetElement(i) : source.AsUInt32().GetElement(i);
            if (!WriteMem(op.Segment, (address + (ulong)(i * size)) & addressMask, size, v)) return false;
        }
        return Next(ref op);
    }
}
