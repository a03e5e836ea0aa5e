using System.Runtime.CompilerServices;

namespace Sim.Cpu;

/// <summary>An operand size as a type, so that the JIT compiles a handler per size with the size-dependent branches folded away.</summary>
internal interface IOperandSize
{
    static abstract int Bytes { get; }
}

public sealed unsafe partial class Processor
{
    private struct Size1 : IOperandSize { public static int Bytes => 1; }
    private struct Size2 : IOperandSize { public static int Bytes => 2; }
    private struct Size4 : IOperandSize { public static int Bytes => 4; }
    private struct Size8 : IOperandSize { public static int Bytes => 8; }

    private static int SizeIndex(int bytes) => bytes switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 };

    /// <summary>
    /// The function that executes an operation. The frequent ones have small functions of their own,
    /// specialised by operand size (and ALU operation or condition), so each call sets up only the
    /// frame it needs and takes no size branches; the rest go through the switches of <see cref="ExecuteRare"/>.
    /// </summary>
    private static delegate*<Processor, ref DecodedOp, bool> OperationFor(in DecodedOp op)
    {
        var size = SizeIndex(op.Size);
        return op.Handler switch
        {
            Handler.AluRR => AluOperations[0][size][op.Sub],
            Handler.AluRI => AluOperations[1][size][op.Sub],
            Handler.AluRM => AluOperations[2][size][op.Sub],
            Handler.Jcc => JccOperations[op.Sub],
            _ => SizedOperations[(int)op.Handler] is { } sized ? sized[size] : &Rare,
        };
    }

    private static bool Rare(Processor p, ref DecodedOp op) => p.ExecuteRare(ref op);

    private static delegate*<Processor, ref DecodedOp, bool>[] BySize(
        delegate*<Processor, ref DecodedOp, bool> size1, delegate*<Processor, ref DecodedOp, bool> size2,
        delegate*<Processor, ref DecodedOp, bool> size4, delegate*<Processor, ref DecodedOp, bool> size8) =>
        [size1, size2, size4, size8];

    private static readonly delegate*<Processor, ref DecodedOp, bool>[]?[] SizedOperations = CreateSizedOperations();

    private static delegate*<Processor, ref DecodedOp, bool>[]?[] CreateSizedOperations()
    {
        var t = new delegate*<Processor, ref DecodedOp, bool>[]?[Enum.GetValues<Handler>().Length];
        t[(int)Handler.MovRR] = BySize(&MovRR<Size1>, &MovRR<Size2>, &MovRR<Size4>, &MovRR<Size8>);
        t[(int)Handler.MovRM] = BySize(&MovRM<Size1>, &MovRM<Size2>, &MovRM<Size4>, &MovRM<Size8>);
        t[(int)Handler.MovMR] = BySize(&MovMR<Size1>, &MovMR<Size2>, &MovMR<Size4>, &MovMR<Size8>);
        t[(int)Handler.MovRI] = BySize(&MovRI<Size1>, &MovRI<Size2>, &MovRI<Size4>, &MovRI<Size8>);
        t[(int)Handler.MovMI] = BySize(&MovMI<Size1>, &MovMI<Size2>, &MovMI<Size4>, &MovMI<Size8>);
        t[(int)Handler.AluMR] = BySize(&AluMR<Size1>, &AluMR<Size2>, &AluMR<Size4>, &AluMR<Size8>);
        t[(int)Handler.AluMI] = BySize(&AluMI<Size1>, &AluMI<Size2>, &AluMI<Size4>, &AluMI<Size8>);
        t[(int)Handler.TestRR] = BySize(&TestRR<Size1>, &TestRR<Size2>, &TestRR<Size4>, &TestRR<Size8>);
        t[(int)Handler.TestRI] = BySize(&TestRI<Size1>, &TestRI<Size2>, &TestRI<Size4>, &TestRI<Size8>);
        t[(int)Handler.TestMR] = BySize(&TestMR<Size1>, &TestMR<Size2>, &TestMR<Size4>, &TestMR<Size8>);
        t[(int)Handler.TestMI] = BySize(&TestMI<Size1>, &TestMI<Size2>, &TestMI<Size4>, &TestMI<Size8>);
        t[(int)Handler.Lea] = BySize(&Lea<Size2>, &Lea<Size2>, &Lea<Size4>, &Lea<Size8>);
        t[(int)Handler.PushR] = BySize(&PushR<Size2>, &PushR<Size2>, &PushR<Size4>, &PushR<Size8>);
        t[(int)Handler.PopR] = BySize(&PopR<Size2>, &PopR<Size2>, &PopR<Size4>, &PopR<Size8>);
        t[(int)Handler.UnaryR] = BySize(&UnaryR<Size1>, &UnaryR<Size2>, &UnaryR<Size4>, &UnaryR<Size8>);
        t[(int)Handler.CallRel] = BySize(&CallRel<Size2>, &CallRel<Size2>, &CallRel<Size4>, &CallRel<Size8>);
        t[(int)Handler.Ret] = BySize(&Ret<Size2>, &Ret<Size2>, &Ret<Size4>, &Ret<Size8>);
        t[(int)Handler.JmpRel] = BySize(&JmpRel<Size2>, &JmpRel<Size2>, &JmpRel<Size4>, &JmpRel<Size8>);
        t[(int)Handler.MovzxRR] = BySize(&MovzxRR<Size2>, &MovzxRR<Size2>, &MovzxRR<Size4>, &MovzxRR<Size8>);
        t[(int)Handler.MovzxRM] = BySize(&MovzxRM<Size2>, &MovzxRM<Size2>, &MovzxRM<Size4>, &MovzxRM<Size8>);
        t[(int)Handler.MovsxRR] = BySize(&MovsxRR<Size2>, &MovsxRR<Size2>, &MovsxRR<Size4>, &MovsxRR<Size8>);
        t[(int)Handler.MovsxRM] = BySize(&MovsxRM<Size2>, &MovsxRM<Size2>, &MovsxRM<Size4>, &MovsxRM<Size8>);
        t[(int)Handler.CmovRR] = BySize(&CmovRR<Size2>, &CmovRR<Size2>, &CmovRR<Size4>, &CmovRR<Size8>);
        var nop = BySize(&Nop, &Nop, &Nop, &Nop);
        t[(int)Handler.Nop] = nop;
        var setcc = BySize(&SetccR, &SetccR, &SetccR, &SetccR);
        t[(int)Handler.SetccR] = setcc;
        return t;
    }

    private static bool MovRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.GetReg(op.Rm, T.Bytes));
        return p.Next(ref op);
    }

    private static bool MovRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool MovMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, p.GetReg(op.R, T.Bytes))) return false;
        return p.Next(ref op);
    }

    private static bool MovRI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, op.Immediate);
        return p.Next(ref op);
    }

    private static bool MovMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.WriteMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, op.Immediate)) return false;
        return p.Next(ref op);
    }

    private static bool AluMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.AluMemory(ref op, p.GetReg(op.R, T.Bytes));

    private static bool AluMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.AluMemory(ref op, op.Immediate);

    private static bool TestRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        AndOperation.Apply(p, T.Bytes, p.GetReg(op.R, T.Bytes), p.GetReg(op.Rm, T.Bytes));
        return p.Next(ref op);
    }

    private static bool TestRI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        AndOperation.Apply(p, T.Bytes, p.GetReg(op.R, T.Bytes), op.Immediate);
        return p.Next(ref op);
    }

    private static bool TestMR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var a)) return false;
        AndOperation.Apply(p, T.Bytes, a, p.GetReg(op.R, T.Bytes));
        return p.Next(ref op);
    }

    private static bool TestMI<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), T.Bytes, out var a)) return false;
        AndOperation.Apply(p, T.Bytes, a, op.Immediate);
        return p.Next(ref op);
    }

    private static bool Lea<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.EffectiveAddress(ref op));
        return p.Next(ref op);
    }

    private static bool PushR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.Push(p.GetReg(op.R, T.Bytes), T.Bytes)) return false;
        return p.Next(ref op);
    }

    private static bool PopR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.Pop(T.Bytes, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool UnaryR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.Rm, T.Bytes, p.Unary(op.Sub, T.Bytes, p.GetReg(op.Rm, T.Bytes)));
        return p.Next(ref op);
    }

    private static bool CallRel<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.CallTo(ref op, (p.Rip + op.Length + op.Immediate) & OperandMask(T.Bytes));

    private static bool Ret<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.PeekStack(0, T.Bytes, out var target)) return false;
        if (p._bitness == 64 ? !IsCanonical(target) : target > p._codeLimit)
            return p.RaiseFault(Registers.ExceptionVector.GP, 0);
        p.SetStackPointer(p._r[4] + (ulong)T.Bytes + op.Immediate);
        p.Rip = target;
        return true;
    }

    private static bool JmpRel<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize =>
        p.SetBranchTarget((p.Rip + op.Length + op.Immediate) & OperandMask(T.Bytes));

    private static bool MovzxRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, p.GetReg(op.Rm, op.Sub));
        return p.Next(ref op);
    }

    private static bool MovzxRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), op.Sub, out var v)) return false;
        p.SetReg(op.R, T.Bytes, v);
        return p.Next(ref op);
    }

    private static bool MovsxRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        p.SetReg(op.R, T.Bytes, SignExtend(p.GetReg(op.Rm, op.Sub), op.Sub));
        return p.Next(ref op);
    }

    private static bool MovsxRM<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        if (!p.ReadMem(op.Segment, p.EffectiveAddress(ref op), op.Sub, out var v)) return false;
        p.SetReg(op.R, T.Bytes, SignExtend(v, op.Sub));
        return p.Next(ref op);
    }

    private static bool CmovRR<T>(Processor p, ref DecodedOp op) where T : struct, IOperandSize
    {
        // A 32-bit CMOV zero-extends its destination even when the condition is false.
        p.SetReg(op.R, T.Bytes, p.Condition(op.Sub) ? p.GetReg(op.Rm, T.Bytes) : p.GetReg(op.R, T.Bytes));
        return p.Next(ref op);
    }

    private static bool Nop(Processor p, ref DecodedOp op) => p.Next(ref op);

    private static bool SetccR(Processor p, ref DecodedOp op)
    {
        p.SetReg(op.Rm, 1, p.Condition(op.Sub) ? 1UL : 0);
        return p.Next(ref op);
    }
}
