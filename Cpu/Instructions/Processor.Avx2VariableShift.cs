using System.Runtime.Intrinsics;

namespace Sim.Cpu;

/// <summary>
/// The AVX2 variable shifts (SDM vol. 2, VPSLLVD/Q, VPSRLVD/Q, VPSRAVD): each element of the vvvv source shifted by
/// the unsigned count in the same element of the r/m source; a count above the element width minus one gives zero,
/// or for VPSRAVD the sign in every bit. In-lane operations: <see cref="VexInteger{T}"/> applies them per half.
/// </summary>
public sealed unsafe partial class Processor
{
    private struct ShiftLeftVariableDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var v = a.AsUInt32();
            var c = b.AsUInt32();
            return Vector128.Create(
                Left(v.GetElement(0), c.GetElement(0)), Left(v.GetElement(1), c.GetElement(1)),
                Left(v.GetElement(2), c.GetElement(2)), Left(v.GetElement(3), c.GetElement(3))).AsByte();

            static uint Left(uint value, uint count) => count > 31 ? 0 : value << (int)count;
        }
    }

    private struct ShiftLeftVariableQwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var v = a.AsUInt64();
            var c = b.AsUInt64();
            return Vector128.Create(Left(v.GetElement(0), c.GetElement(0)), Left(v.GetElement(1), c.GetElement(1))).AsByte();

            static ulong Left(ulong value, ulong count) => count > 63 ? 0 : value << (int)count;
        }
    }

    private struct ShiftRightVariableDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var v = a.AsUInt32();
            var c = b.AsUInt32();
            return Vector128.Create(
                Right(v.GetElement(0), c.GetElement(0)), Right(v.GetElement(1), c.GetElement(1)),
                Right(v.GetElement(2), c.GetElement(2)), Right(v.GetElement(3), c.GetElement(3))).AsByte();

            static uint Right(uint value, uint count) => count > 31 ? 0 : value >> (int)count;
        }
    }

    private struct ShiftRightVariableQwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var v = a.AsUInt64();
            var c = b.AsUInt64();
            return Vector128.Create(Right(v.GetElement(0), c.GetElement(0)), Right(v.GetElement(1), c.GetElement(1))).AsByte();

            static ulong Right(ulong value, ulong count) => count > 63 ? 0 : value >> (int)count;
        }
    }

    private struct ShiftRightArithmeticVariableDwords : IVectorOperation
    {
        public static Vector128<byte> Apply(Vector128<byte> a, Vector128<byte> b)
        {
            var v = a.AsInt32();
            var c = b.AsUInt32();
            return Vector128.Create(
                Right(v.GetElement(0), c.GetElement(0)), Right(v.GetElement(1), c.GetElement(1)),
                Right(v.GetElement(2), c.GetElement(2)), Right(v.GetElement(3), c.GetElement(3))).AsByte();

            static int Right(int value, uint count) => value >> (int)Math.Min(count, 31u);
        }
    }
}
