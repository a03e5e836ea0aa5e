using System.Runtime.CompilerServices;

namespace Sim.Cpu;

/// <summary>One of the eight ALU operations, as a type, so that the JIT compiles a handler per operation.</summary>
internal interface IAluOperation
{
    static abstract bool WritesResult { get; }

    static abstract ulong Apply(Processor p, int size, ulong a, ulong b);
}

/// <summary>One of the sixteen condition codes, as a type, so that the JIT compiles a Jcc per condition.</summary>
internal interface ICondition
{
    static abstract bool Holds(Processor p);
}

public sealed unsafe partial class Processor
{
    private struct AddOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a + b;
            p.SetLazy(FlagOp.Add, size, r, a, b);
            return r;
        }
    }

    private struct SubOperation : IAluOperation
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a - b;
            p.SetLazy(FlagOp.Sub, size, r, a, b);
            return r;
        }
    }

    private struct CmpOperation : IAluOperation
    {
        public static bool WritesResult => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Processor p, int size, ulong a, ulong b)
        {
            var r = a - b;
            p.SetLazy(FlagOp.Sub, size, r, a, b);
            return r;
        }
    }

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

    /// <summary>ADC and SBB keep the generic path: they need the carry in.</summary>
    private struct AdcOperation : IAluOperation
    {
        public static bool WritesResult => true;

        public static ulong Apply(Processor p, int size, ulong a, ulong b) => p.Alu(2, size, a, b);
    }

    private struct SbbOperation : IAluOperation
    {
        public static bool WritesResult => true;

        public static ulong Apply(Processor p, int size, ulong a, ulong b) => p.Alu(3, size, a, b);
    }

    private static bool AluRR32<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        var r = T.Apply(p, 4, (uint)p._r[op.R], (uint)p._r[op.Rm]);
        if (T.WritesResult) p._r[op.R] = (uint)r;
        return p.Next(ref op);
    }

    private static bool AluRR64<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        var r = T.Apply(p, 8, p._r[op.R], p._r[op.Rm]);
        if (T.WritesResult) p._r[op.R] = r;
        return p.Next(ref op);
    }

    private static bool AluRI32<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        var r = T.Apply(p, 4, (uint)p._r[op.R], (uint)op.Immediate);
        if (T.WritesResult) p._r[op.R] = (uint)r;
        return p.Next(ref op);
    }

    private static bool AluRI64<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        var r = T.Apply(p, 8, p._r[op.R], op.Immediate);
        if (T.WritesResult) p._r[op.R] = r;
        return p.Next(ref op);
    }

    private static bool AluRM32<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), 4, out var b)) return false;
        var r = T.Apply(p, 4, (uint)p._r[op.R], b);
        if (T.WritesResult) p._r[op.R] = (uint)r;
        return p.Next(ref op);
    }

    private static bool AluRM64<T>(Processor p, ref DecodedOp op) where T : struct, IAluOperation
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), 8, out var b)) return false;
        var r = T.Apply(p, 8, p._r[op.R], b);
        if (T.WritesResult) p._r[op.R] = r;
        return p.Next(ref op);
    }

    private struct ConditionO : ICondition { public static bool Holds(Processor p) => p.GetOF(); }
    private struct ConditionNO : ICondition { public static bool Holds(Processor p) => !p.GetOF(); }
    private struct ConditionB : ICondition { public static bool Holds(Processor p) => p.GetCF(); }
    private struct ConditionAE : ICondition { public static bool Holds(Processor p) => !p.GetCF(); }
    private struct ConditionE : ICondition { public static bool Holds(Processor p) => p.GetZF(); }
    private struct ConditionNE : ICondition { public static bool Holds(Processor p) => !p.GetZF(); }
    private struct ConditionBE : ICondition { public static bool Holds(Processor p) => p.GetCF() || p.GetZF(); }
    private struct ConditionA : ICondition { public static bool Holds(Processor p) => !p.GetCF() && !p.GetZF(); }
    private struct ConditionS : ICondition { public static bool Holds(Processor p) => p.GetSF(); }
    private struct ConditionNS : ICondition { public static bool Holds(Processor p) => !p.GetSF(); }
    private struct ConditionP : ICondition { public static bool Holds(Processor p) => p.GetPF(); }
    private struct ConditionNP : ICondition { public static bool Holds(Processor p) => !p.GetPF(); }
    private struct ConditionL : ICondition { public static bool Holds(Processor p) => p.GetSF() != p.GetOF(); }
    private struct ConditionGE : ICondition { public static bool Holds(Processor p) => p.GetSF() == p.GetOF(); }
    private struct ConditionLE : ICondition { public static bool Holds(Processor p) => p.GetZF() || p.GetSF() != p.GetOF(); }
    private struct ConditionG : ICondition { public static bool Holds(Processor p) => !p.GetZF() && p.GetSF() == p.GetOF(); }

    private static bool Jcc<T>(Processor p, ref DecodedOp op) where T : struct, ICondition
    {
        if (!T.Holds(p)) return p.Next(ref op);
        p._stopBlock = true;
        return p.JumpRelative(ref op);
    }

    private static readonly delegate*<Processor, ref DecodedOp, bool>[] JccOperations =
    [
        &Jcc<ConditionO>, &Jcc<ConditionNO>, &Jcc<ConditionB>, &Jcc<ConditionAE>,
        &Jcc<ConditionE>, &Jcc<ConditionNE>, &Jcc<ConditionBE>, &Jcc<ConditionA>,
        &Jcc<ConditionS>, &Jcc<ConditionNS>, &Jcc<ConditionP>, &Jcc<ConditionNP>,
        &Jcc<ConditionL>, &Jcc<ConditionGE>, &Jcc<ConditionLE>, &Jcc<ConditionG>,
    ];

    /// <summary>The ALU handlers per form, indexed by the ALU kind (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP).</summary>
    private static delegate*<Processor, ref DecodedOp, bool>[] AluTable(
        delegate*<Processor, ref DecodedOp, bool> add, delegate*<Processor, ref DecodedOp, bool> or,
        delegate*<Processor, ref DecodedOp, bool> adc, delegate*<Processor, ref DecodedOp, bool> sbb,
        delegate*<Processor, ref DecodedOp, bool> and, delegate*<Processor, ref DecodedOp, bool> sub,
        delegate*<Processor, ref DecodedOp, bool> xor, delegate*<Processor, ref DecodedOp, bool> cmp) =>
        [add, or, adc, sbb, and, sub, xor, cmp];

    private static readonly delegate*<Processor, ref DecodedOp, bool>[][] AluOperations =
    [
        AluTable(&AluRR32<AddOperation>, &AluRR32<OrOperation>, &AluRR32<AdcOperation>, &AluRR32<SbbOperation>, &AluRR32<AndOperation>, &AluRR32<SubOperation>, &AluRR32<XorOperation>, &AluRR32<CmpOperation>),
        AluTable(&AluRR64<AddOperation>, &AluRR64<OrOperation>, &AluRR64<AdcOperation>, &AluRR64<SbbOperation>, &AluRR64<AndOperation>, &AluRR64<SubOperation>, &AluRR64<XorOperation>, &AluRR64<CmpOperation>),
        AluTable(&AluRI32<AddOperation>, &AluRI32<OrOperation>, &AluRI32<AdcOperation>, &AluRI32<SbbOperation>, &AluRI32<AndOperation>, &AluRI32<SubOperation>, &AluRI32<XorOperation>, &AluRI32<CmpOperation>),
        AluTable(&AluRI64<AddOperation>, &AluRI64<OrOperation>, &AluRI64<AdcOperation>, &AluRI64<SbbOperation>, &AluRI64<AndOperation>, &AluRI64<SubOperation>, &AluRI64<XorOperation>, &AluRI64<CmpOperation>),
        AluTable(&AluRM32<AddOperation>, &AluRM32<OrOperation>, &AluRM32<AdcOperation>, &AluRM32<SbbOperation>, &AluRM32<AndOperation>, &AluRM32<SubOperation>, &AluRM32<XorOperation>, &AluRM32<CmpOperation>),
        AluTable(&AluRM64<AddOperation>, &AluRM64<OrOperation>, &AluRM64<AdcOperation>, &AluRM64<SbbOperation>, &AluRM64<AndOperation>, &AluRM64<SubOperation>, &AluRM64<XorOperation>, &AluRM64<CmpOperation>),
    ];

    /// <summary>The function for an operation: per ALU kind or condition where the JIT has a specialised one, else from the table.</summary>
    private static delegate*<Processor, ref DecodedOp, bool> OperationFor(in DecodedOp op) => op.Handler switch
    {
        Handler.AluRR32 => AluOperations[0][op.Sub],
        Handler.AluRR64 => AluOperations[1][op.Sub],
        Handler.AluRI32 => AluOperations[2][op.Sub],
        Handler.AluRI64 => AluOperations[3][op.Sub],
        Handler.AluRM32 => AluOperations[4][op.Sub],
        Handler.AluRM64 => AluOperations[5][op.Sub],
        Handler.Jcc => JccOperations[op.Sub],
        _ => Operations[(int)op.Handler],
    };
}
