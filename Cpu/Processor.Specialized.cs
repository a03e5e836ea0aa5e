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

    private static bool AluRR<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), p.GetReg(op.Rm, TSize.Bytes));
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
        return p.Next(ref op);
    }

    private static bool AluRI<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), op.Immediate & SizeMask(TSize.Bytes));
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
        return p.Next(ref op);
    }

    private static bool AluRM<TOp, TSize>(Processor p, ref DecodedOp op) where TOp : struct, IAluOperation where TSize : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), TSize.Bytes, out var b)) return false;
        var r = TOp.Apply(p, TSize.Bytes, p.GetReg(op.R, TSize.Bytes), b);
        if (TOp.WritesResult) p.SetReg(op.R, TSize.Bytes, r);
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

    /// <summary>The ALU handlers of one form and size, indexed by the ALU kind (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP).</summary>
    private static delegate*<Processor, ref DecodedOp, bool>[] AluRR<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRR<AddOperation, TSize>, &AluRR<OrOperation, TSize>, &AluRR<AdcOperation, TSize>, &AluRR<SbbOperation, TSize>,
        &AluRR<AndOperation, TSize>, &AluRR<SubOperation, TSize>, &AluRR<XorOperation, TSize>, &AluRR<CmpOperation, TSize>,
    ];

    private static delegate*<Processor, ref DecodedOp, bool>[] AluRI<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRI<AddOperation, TSize>, &AluRI<OrOperation, TSize>, &AluRI<AdcOperation, TSize>, &AluRI<SbbOperation, TSize>,
        &AluRI<AndOperation, TSize>, &AluRI<SubOperation, TSize>, &AluRI<XorOperation, TSize>, &AluRI<CmpOperation, TSize>,
    ];

    private static delegate*<Processor, ref DecodedOp, bool>[] AluRM<TSize>() where TSize : struct, IOperandSize =>
    [
        &AluRM<AddOperation, TSize>, &AluRM<OrOperation, TSize>, &AluRM<AdcOperation, TSize>, &AluRM<SbbOperation, TSize>,
        &AluRM<AndOperation, TSize>, &AluRM<SubOperation, TSize>, &AluRM<XorOperation, TSize>, &AluRM<CmpOperation, TSize>,
    ];

    /// <summary>ALU handlers by form (RR, RI, RM), operand size (1, 2, 4, 8) and kind.</summary>
    private static readonly delegate*<Processor, ref DecodedOp, bool>[][][] AluOperations =
    [
        [AluRR<Size1>(), AluRR<Size2>(), AluRR<Size4>(), AluRR<Size8>()],
        [AluRI<Size1>(), AluRI<Size2>(), AluRI<Size4>(), AluRI<Size8>()],
        [AluRM<Size1>(), AluRM<Size2>(), AluRM<Size4>(), AluRM<Size8>()],
    ];
}
