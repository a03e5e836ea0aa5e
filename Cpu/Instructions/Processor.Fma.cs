using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;

namespace Sim.Cpu;

/// <summary>Which operand of an FMA3 form (1: the destination, 2: VEX.vvvv, 3: r/m) is the multiplicand, the multiplier and the addend.</summary>
internal interface IFusedOrder
{
    static abstract void Select(ulong first, ulong second, ulong third, out ulong x, out ulong y, out ulong z);
}

/// <summary>The negations of an FMA3 operation for a lane: −(x × y) for VFNM*, −z for VFMSUB and VFNMSUB, alternating for VFMADDSUB and VFMSUBADD.</summary>
internal interface IFusedSigns
{
    static abstract bool NegateProduct(int lane);
    static abstract bool NegateAddend(int lane);
}

/// <summary>
/// FMA3 (SDM vol. 1, 14.5; vol. 2, VFMADD132PS … VFNMSUB231SD and VFMADDSUB/VFMSUBADD): x × y ± z rounded once by
/// <see cref="SimdFloat.FusedMultiplyAdd"/>, with the operand order of the form's digits: 132 is dest × r/m + vvvv,
/// 213 is vvvv × dest + r/m, 231 is vvvv × r/m + dest. The packed forms write 128 or 256 bits (VEX.128 zeroes 255:128);
/// the scalar forms keep bits 127:32 (127:64) of the destination and zero 255:128. An unmasked exception in any lane
/// leaves the destination unwritten.
/// </summary>
public sealed unsafe partial class Processor
{
    private struct Order132 : IFusedOrder
    {
        public static void Select(ulong first, ulong second, ulong third, out ulong x, out ulong y, out ulong z) => (x, y, z) = (first, third, second);
    }

    private struct Order213 : IFusedOrder
    {
        public static void Select(ulong first, ulong second, ulong third, out ulong x, out ulong y, out ulong z) => (x, y, z) = (second, first, third);
    }

    private struct Order231 : IFusedOrder
    {
        public static void Select(ulong first, ulong second, ulong third, out ulong x, out ulong y, out ulong z) => (x, y, z) = (second, third, first);
    }

    private struct FusedAdd : IFusedSigns
    {
        public static bool NegateProduct(int lane) => false;
        public static bool NegateAddend(int lane) => false;
    }

    private struct FusedSubtract : IFusedSigns
    {
        public static bool NegateProduct(int lane) => false;
        public static bool NegateAddend(int lane) => true;
    }

    private struct FusedNegatedAdd : IFusedSigns
    {
        public static bool NegateProduct(int lane) => true;
        public static bool NegateAddend(int lane) => false;
    }

    private struct FusedNegatedSubtract : IFusedSigns
    {
        public static bool NegateProduct(int lane) => true;
        public static bool NegateAddend(int lane) => true;
    }

    /// <summary>VFMADDSUB: the even lanes subtract the addend, the odd ones add it.</summary>
    private struct FusedAddSubtract : IFusedSigns
    {
        public static bool NegateProduct(int lane) => false;
        public static bool NegateAddend(int lane) => (lane & 1) == 0;
    }

    /// <summary>VFMSUBADD: the even lanes add the addend, the odd ones subtract it.</summary>
    private struct FusedSubtractAdd : IFusedSigns
    {
        public static bool NegateProduct(int lane) => false;
        public static bool NegateAddend(int lane) => (lane & 1) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fused<TOrder, TSigns>(ulong first, ulong second, ulong third, int lane, bool d, uint mxcsr, ref uint flags)
        where TOrder : struct, IFusedOrder where TSigns : struct, IFusedSigns
    {
        TOrder.Select(first, second, third, out var x, out var y, out var z);
        return SimdFloat.FusedMultiplyAdd(x, y, z, TSigns.NegateProduct(lane), TSigns.NegateAddend(lane), d, mxcsr, ref flags);
    }

    private static bool VexFusedPackedSingle<TOrder, TSigns>(Processor p, ref DecodedOp op)
        where TOrder : struct, IFusedOrder where TSigns : struct, IFusedSigns
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.R).AsUInt32();
        var b = p.Ymm(op.Sub).AsUInt32();
        var c = source.AsUInt32();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<uint>.Zero;
        ref var lane = ref Unsafe.As<Vector256<uint>, uint>(ref r);
        for (var i = 0; i < op.Size / 4; i++)
            Unsafe.Add(ref lane, i) = (uint)Fused<TOrder, TSigns>(a.GetElement(i), b.GetElement(i), c.GetElement(i), i, false, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexFusedPackedDouble<TOrder, TSigns>(Processor p, ref DecodedOp op)
        where TOrder : struct, IFusedOrder where TSigns : struct, IFusedSigns
    {
        if (!p.AvxAvailable() || !p.VectorSource(ref op, 1, out var source)) return false;
        var a = p.Ymm(op.R).AsUInt64();
        var b = p.Ymm(op.Sub).AsUInt64();
        var c = source.AsUInt64();
        uint flags = 0;
        var m = p._mxcsr;
        var r = Vector256<ulong>.Zero;
        ref var lane = ref Unsafe.As<Vector256<ulong>, ulong>(ref r);
        for (var i = 0; i < op.Size / 8; i++)
            Unsafe.Add(ref lane, i) = Fused<TOrder, TSigns>(a.GetElement(i), b.GetElement(i), c.GetElement(i), i, true, m, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.Ymm(op.R) = r.AsByte();
        return p.Next(ref op);
    }

    private static bool VexFusedScalarSingle<TOrder, TSigns>(Processor p, ref DecodedOp op)
        where TOrder : struct, IFusedOrder where TSigns : struct, IFusedSigns
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 4, out var c)) return false;
        var a = p.Xmm(op.R).AsUInt32();
        uint flags = 0;
        var r = (uint)Fused<TOrder, TSigns>(a.ToScalar(), p.XmmDword(op.Sub, 0), c, 0, false, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }

    private static bool VexFusedScalarDouble<TOrder, TSigns>(Processor p, ref DecodedOp op)
        where TOrder : struct, IFusedOrder where TSigns : struct, IFusedSigns
    {
        if (!p.AvxAvailable() || !p.XmmScalarSource(ref op, 8, out var c)) return false;
        var a = p.Xmm(op.R).AsUInt64();
        uint flags = 0;
        var r = Fused<TOrder, TSigns>(a.ToScalar(), p.XmmQword(op.Sub, 0), c, 0, true, p._mxcsr, ref flags);
        if (!p.SimdExceptions(flags)) return false;
        p.SetXmmZeroUpper(op.R, a.WithElement(0, r).AsByte());
        return p.Next(ref op);
    }
}
