using System.Runtime.CompilerServices;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>
    /// The operation table: for each <see cref="Handler"/> the function that executes it. The frequent
    /// operations have small functions of their own, so each call sets up only the frame it needs;
    /// the rest go through the switches of <see cref="ExecuteRare"/>.
    /// </summary>
    private static readonly delegate*<Processor, ref DecodedOp, bool>[] Operations = CreateOperations();

    private static delegate*<Processor, ref DecodedOp, bool>[] CreateOperations()
    {
        var table = new delegate*<Processor, ref DecodedOp, bool>[Enum.GetValues<Handler>().Length];
        for (var i = 0; i < table.Length; i++) table[i] = &Rare;
        table[(int)Handler.MovRR32] = &MovRR32;
        table[(int)Handler.MovRR64] = &MovRR64;
        table[(int)Handler.MovRM32] = &MovRM32;
        table[(int)Handler.MovRM64] = &MovRM64;
        table[(int)Handler.MovMR32] = &MovMR32;
        table[(int)Handler.MovMR64] = &MovMR64;
        table[(int)Handler.AluRR32] = &AluRR32;
        table[(int)Handler.AluRR64] = &AluRR64;
        table[(int)Handler.AluRI32] = &AluRI32;
        table[(int)Handler.AluRI64] = &AluRI64;
        table[(int)Handler.AluRM32] = &AluRM32;
        table[(int)Handler.AluRM64] = &AluRM64;
        table[(int)Handler.MovRR] = &MovRR;
        table[(int)Handler.MovRM] = &MovRM;
        table[(int)Handler.MovMR] = &MovMR;
        table[(int)Handler.MovRI] = &MovRI;
        table[(int)Handler.MovMI] = &MovMI;
        table[(int)Handler.AluRR] = &AluRR;
        table[(int)Handler.AluRI] = &AluRI;
        table[(int)Handler.AluRM] = &AluRM;
        table[(int)Handler.AluMR] = &AluMR;
        table[(int)Handler.AluMI] = &AluMI;
        table[(int)Handler.TestRR] = &TestRR;
        table[(int)Handler.TestRI] = &TestRI;
        table[(int)Handler.TestMR] = &TestMR;
        table[(int)Handler.TestMI] = &TestMI;
        table[(int)Handler.Jcc] = &Jcc;
        table[(int)Handler.JmpRel] = &JmpRel;
        table[(int)Handler.Lea] = &Lea;
        table[(int)Handler.PushR] = &PushR;
        table[(int)Handler.PopR] = &PopR;
        table[(int)Handler.UnaryR] = &UnaryR;
        table[(int)Handler.CallRel] = &CallRel;
        table[(int)Handler.Ret] = &Ret;
        table[(int)Handler.Nop] = &Nop;
        table[(int)Handler.MovzxRR] = &MovzxRR;
        table[(int)Handler.MovzxRM] = &MovzxRM;
        table[(int)Handler.MovsxRR] = &MovsxRR;
        table[(int)Handler.MovsxRM] = &MovsxRM;
        table[(int)Handler.SetccR] = &SetccR;
        table[(int)Handler.CmovRR] = &CmovRR;
        return table;
    }

    private static bool Rare(Processor p, ref DecodedOp op) => p.ExecuteRare(ref op);

    private static bool MovRR32(Processor p, ref DecodedOp op) => p.ExecuteMovRR32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRR32(ref DecodedOp op)
    {
        _r[op.R] = (uint)_r[op.Rm]; return Next(ref op);
    }

    private static bool MovRR64(Processor p, ref DecodedOp op) => p.ExecuteMovRR64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRR64(ref DecodedOp op)
    {
        _r[op.R] = _r[op.Rm]; return Next(ref op);
    }

    private static bool MovRM32(Processor p, ref DecodedOp op) => p.ExecuteMovRM32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRM32(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 4, out var v)) return false;
        _r[op.R] = (uint)v;
        return Next(ref op);
    }

    private static bool MovRM64(Processor p, ref DecodedOp op) => p.ExecuteMovRM64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRM64(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 8, out var v)) return false;
        _r[op.R] = v;
        return Next(ref op);
    }

    private static bool MovMR32(Processor p, ref DecodedOp op) => p.ExecuteMovMR32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovMR32(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 4, _r[op.R])) return false;
        return Next(ref op);
    }

    private static bool MovMR64(Processor p, ref DecodedOp op) => p.ExecuteMovMR64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovMR64(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), 8, _r[op.R])) return false;
        return Next(ref op);
    }

    private static bool AluRR32(Processor p, ref DecodedOp op) => p.ExecuteAluRR32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRR32(ref DecodedOp op)
    {
        var r = Alu(op.Sub, 4, (uint)_r[op.R], (uint)_r[op.Rm]);
        if (op.Sub != 7) _r[op.R] = (uint)r;
        return Next(ref op);
    }

    private static bool AluRR64(Processor p, ref DecodedOp op) => p.ExecuteAluRR64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRR64(ref DecodedOp op)
    {
        var r = Alu(op.Sub, 8, _r[op.R], _r[op.Rm]);
        if (op.Sub != 7) _r[op.R] = r;
        return Next(ref op);
    }

    private static bool AluRI32(Processor p, ref DecodedOp op) => p.ExecuteAluRI32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRI32(ref DecodedOp op)
    {
        var r = Alu(op.Sub, 4, (uint)_r[op.R], (uint)op.Immediate);
        if (op.Sub != 7) _r[op.R] = (uint)r;
        return Next(ref op);
    }

    private static bool AluRI64(Processor p, ref DecodedOp op) => p.ExecuteAluRI64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRI64(ref DecodedOp op)
    {
        var r = Alu(op.Sub, 8, _r[op.R], op.Immediate);
        if (op.Sub != 7) _r[op.R] = r;
        return Next(ref op);
    }

    private static bool AluRM32(Processor p, ref DecodedOp op) => p.ExecuteAluRM32(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRM32(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 4, out var b)) return false;
        var r = Alu(op.Sub, 4, (uint)_r[op.R], b);
        if (op.Sub != 7) _r[op.R] = (uint)r;
        return Next(ref op);
    }

    private static bool AluRM64(Processor p, ref DecodedOp op) => p.ExecuteAluRM64(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRM64(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), 8, out var b)) return false;
        var r = Alu(op.Sub, 8, _r[op.R], b);
        if (op.Sub != 7) _r[op.R] = r;
        return Next(ref op);
    }

    private static bool MovRR(Processor p, ref DecodedOp op) => p.ExecuteMovRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRR(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, GetReg(op.Rm, op.Size)); return Next(ref op);
    }

    private static bool MovRM(Processor p, ref DecodedOp op) => p.ExecuteMovRM(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRM(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var v)) return false;
        SetReg(op.R, op.Size, v);
        return Next(ref op);
    }

    private static bool MovMR(Processor p, ref DecodedOp op) => p.ExecuteMovMR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovMR(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), op.Size, GetReg(op.R, op.Size))) return false;
        return Next(ref op);
    }

    private static bool MovRI(Processor p, ref DecodedOp op) => p.ExecuteMovRI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovRI(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, op.Immediate); return Next(ref op);
    }

    private static bool MovMI(Processor p, ref DecodedOp op) => p.ExecuteMovMI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovMI(ref DecodedOp op)
    {
        if (!WriteMem(op.Segment, EffectiveAddress(ref op), op.Size, op.Immediate)) return false;
        return Next(ref op);
    }

    private static bool AluRR(Processor p, ref DecodedOp op) => p.ExecuteAluRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRR(ref DecodedOp op)
    {
        var r = Alu(op.Sub, op.Size, GetReg(op.R, op.Size), GetReg(op.Rm, op.Size));
        if (op.Sub != 7) SetReg(op.R, op.Size, r);
        return Next(ref op);
    }

    private static bool AluRI(Processor p, ref DecodedOp op) => p.ExecuteAluRI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRI(ref DecodedOp op)
    {
        var r = Alu(op.Sub, op.Size, GetReg(op.R, op.Size), op.Immediate);
        if (op.Sub != 7) SetReg(op.R, op.Size, r);
        return Next(ref op);
    }

    private static bool AluRM(Processor p, ref DecodedOp op) => p.ExecuteAluRM(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluRM(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var b)) return false;
        var r = Alu(op.Sub, op.Size, GetReg(op.R, op.Size), b);
        if (op.Sub != 7) SetReg(op.R, op.Size, r);
        return Next(ref op);
    }

    private static bool AluMR(Processor p, ref DecodedOp op) => p.ExecuteAluMR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluMR(ref DecodedOp op)
    {
        return AluMemory(ref op, GetReg(op.R, op.Size));
    }

    private static bool AluMI(Processor p, ref DecodedOp op) => p.ExecuteAluMI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteAluMI(ref DecodedOp op)
    {
        return AluMemory(ref op, op.Immediate);
    }

    private static bool TestRR(Processor p, ref DecodedOp op) => p.ExecuteTestRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteTestRR(ref DecodedOp op)
    {
        Alu(4, op.Size, GetReg(op.R, op.Size), GetReg(op.Rm, op.Size)); return Next(ref op);
    }

    private static bool TestRI(Processor p, ref DecodedOp op) => p.ExecuteTestRI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteTestRI(ref DecodedOp op)
    {
        Alu(4, op.Size, GetReg(op.R, op.Size), op.Immediate); return Next(ref op);
    }

    private static bool TestMR(Processor p, ref DecodedOp op) => p.ExecuteTestMR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteTestMR(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var a)) return false;
        Alu(4, op.Size, a, GetReg(op.R, op.Size));
        return Next(ref op);
    }

    private static bool TestMI(Processor p, ref DecodedOp op) => p.ExecuteTestMI(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteTestMI(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Size, out var a)) return false;
        Alu(4, op.Size, a, op.Immediate);
        return Next(ref op);
    }

    private static bool Jcc(Processor p, ref DecodedOp op) => p.ExecuteJcc(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteJcc(ref DecodedOp op)
    {
        if (Condition(op.Sub))
        {
            _stopBlock = true;
            return JumpRelative(ref op);
        }
        return Next(ref op);
    }

    private static bool JmpRel(Processor p, ref DecodedOp op) => p.ExecuteJmpRel(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteJmpRel(ref DecodedOp op)
    {
        return JumpRelative(ref op);
    }

    private static bool Lea(Processor p, ref DecodedOp op) => p.ExecuteLea(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteLea(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, EffectiveAddress(ref op));
        return Next(ref op);
    }

    private static bool PushR(Processor p, ref DecodedOp op) => p.ExecutePushR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecutePushR(ref DecodedOp op)
    {
        return PushOp(ref op, GetReg(op.R, op.Size));
    }

    private static bool PopR(Processor p, ref DecodedOp op) => p.ExecutePopR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecutePopR(ref DecodedOp op)
    {
        if (!Pop(op.Size, out var v)) return false;
        SetReg(op.R, op.Size, v);
        return Next(ref op);
    }

    private static bool UnaryR(Processor p, ref DecodedOp op) => p.ExecuteUnaryR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteUnaryR(ref DecodedOp op)
    {
        return UnaryRegister(ref op);
    }

    private static bool CallRel(Processor p, ref DecodedOp op) => p.ExecuteCallRel(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteCallRel(ref DecodedOp op)
    {
        return CallRelative(ref op);
    }

    private static bool Ret(Processor p, ref DecodedOp op) => p.ExecuteRet(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteRet(ref DecodedOp op)
    {
        return Return(ref op);
    }

    private static bool Nop(Processor p, ref DecodedOp op) => p.ExecuteNop(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteNop(ref DecodedOp op)
    {
        return Next(ref op);
    }

    private static bool MovzxRR(Processor p, ref DecodedOp op) => p.ExecuteMovzxRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovzxRR(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, GetReg(op.Rm, op.Sub)); return Next(ref op);
    }

    private static bool MovzxRM(Processor p, ref DecodedOp op) => p.ExecuteMovzxRM(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovzxRM(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Sub, out var v)) return false;
        SetReg(op.R, op.Size, v);
        return Next(ref op);
    }

    private static bool MovsxRR(Processor p, ref DecodedOp op) => p.ExecuteMovsxRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovsxRR(ref DecodedOp op)
    {
        SetReg(op.R, op.Size, SignExtend(GetReg(op.Rm, op.Sub), op.Sub)); return Next(ref op);
    }

    private static bool MovsxRM(Processor p, ref DecodedOp op) => p.ExecuteMovsxRM(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteMovsxRM(ref DecodedOp op)
    {
        if (!ReadMem(op.Segment, EffectiveAddress(ref op), op.Sub, out var v)) return false;
        SetReg(op.R, op.Size, SignExtend(v, op.Sub));
        return Next(ref op);
    }

    private static bool SetccR(Processor p, ref DecodedOp op) => p.ExecuteSetccR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteSetccR(ref DecodedOp op)
    {
        SetReg(op.Rm, 1, Condition(op.Sub) ? 1UL : 0); return Next(ref op);
    }

    private static bool CmovRR(Processor p, ref DecodedOp op) => p.ExecuteCmovRR(ref op);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ExecuteCmovRR(ref DecodedOp op)
    {
        if (Condition(op.Sub)) SetReg(op.R, op.Size, GetReg(op.Rm, op.Size));
        else if (op.Size == 4) SetReg(op.R, 4, GetReg(op.R, 4));
        return Next(ref op);
    }
}
