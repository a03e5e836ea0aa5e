using Iced.Intel;
using IcedRegister = Iced.Intel.Register;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    /// <summary>One SIMD operation: the Iced encoding it serves, its handler class and its function.</summary>
    private readonly struct SimdOperation(Code code, Handler handler, delegate*<Processor, ref DecodedOp, bool> execute)
    {
        public Code Code { get; } = code;
        public Handler Handler { get; } = handler;
        public delegate*<Processor, ref DecodedOp, bool> Execute { get; } = execute;
    }

    /// <summary>For each Iced operand kind, whether it is encoded in ModRM.r/m (the "_rm" and "_or_mem" kinds), computed once.</summary>
    private static readonly bool[] IsModRmRm = CreateIsModRmRm();

    private static bool[] CreateIsModRmRm()
    {
        var kinds = Enum.GetValues<OpCodeOperandKind>();
        var table = new bool[kinds.Max(k => (int)k) + 1];
        foreach (var k in kinds)
        {
            var name = k.ToString();
            table[(int)k] = name.EndsWith("_rm", StringComparison.Ordinal) || name.EndsWith("_or_mem", StringComparison.Ordinal);
        }
        return table;
    }

    /// <summary>
    /// Binds the legacy-encoded (not VEX/EVEX) MMX, SSE and SSE2 instructions that have an entry in the SIMD operation
    /// table. Operand registers follow the ModRM fields: op.R the reg field (XMM, MM or GPR number), op.Rm the r/m
    /// register, or the memory operand; op.Immediate the imm8; op.Imm16 the table index.
    /// </summary>
    private bool BindSimd(in Instruction instr, ref DecodedOp op)
    {
        if (instr.Encoding != EncodingKind.Legacy) return false;
        var entry = SimdOperationIndex[(int)instr.Code];
        if (entry == 0) return false;
        if (instr.HasLockPrefix)
        {
            // LOCK is #UD for every SIMD instruction, ahead of the CR0/CR4 checks.
            op.Handler = Handler.Ud;
            op.Flags |= OpFlags.EndsBlock;
            return true;
        }
        op.Handler = SimdOperations[entry - 1].Handler;
        op.Imm16 = (ushort)(entry - 1);
        var info = instr.Code.ToOpCode();
        for (var i = 0; i < instr.OpCount; i++)
        {
            switch (instr.GetOpKind(i))
            {
                case OpKind.Register:
                {
                    var r = instr.GetOpRegister(i);
                    var number = r.IsXMM() ? (byte)(r - IcedRegister.XMM0) : r.IsMM() ? (byte)(r - IcedRegister.MM0) : Gpr(r);
                    if (IsModRmRm[(int)info.GetOpKind(i)]) op.Rm = number;
                    else op.R = number;
                    if (r.IsGPR()) op.Size = (byte)r.GetSize();
                    break;
                }
                case OpKind.Memory:
                    BindMemory(in instr, ref op);
                    break;
                case OpKind.MemorySegDI or OpKind.MemorySegEDI or OpKind.MemorySegRDI:
                    // MASKMOVQ and MASKMOVDQU store to DS:rDI, the segment overridable.
                    op.Flags |= OpFlags.Memory;
                    op.Segment = SegIndex(instr.MemorySegment);
                    op.Base = 7;
                    break;
                case OpKind.Immediate8:
                    op.Immediate = instr.Immediate8;
                    break;
            }
        }
        return true;
    }
}
