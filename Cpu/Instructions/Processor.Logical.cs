using System.Runtime.CompilerServices;

namespace Sim.Cpu;

/// <summary>Logical instructions (SDM vol. 1, 5.1.4): AND, OR, XOR (NOT is with the unary arithmetic).</summary>
public sealed unsafe partial class Processor
{
    private struct AndOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a & b;
            p.SetLazy(FlagOp.Logic, size, r, a, b);
            return r;
        }
    }

    private struct OrOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a | b;
            p.SetLazy(FlagOp.Logic, size, r, a, b);
            return r;
        }
    }

    private struct XorOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a ^ b;
            p.SetLazy(FlagOp.Logic, size, r, a, b);
            return r;
        }
    }
}
