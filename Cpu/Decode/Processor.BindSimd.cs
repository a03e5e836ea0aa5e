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

    /// <summary>Where an instruction operand is encoded, which decides the <see cref="DecodedOp"/> field that holds it.</summary>
    private enum OperandField : byte { Reg, Rm, Vvvv, Is4 }

    /// <summary>
    /// For each Iced operand kind, its field: ModRM.r/m for the "_rm" and "_or_mem" kinds, VEX.vvvv for "_vvvv", imm8[7:4]
    /// for "_is4", else ModRM.reg; computed once.
    /// </summary>
    private static readonly OperandField[] OperandFields = CreateOperandFields();

    private static OperandField[] CreateOperandFields()
    {
        var kinds = Enum.GetValues<OpCodeOperandKind>();
        var table = new OperandField[kinds.Max(k => (int)k) + 1];
        foreach (var k in kinds)
        {
            var name = k.ToString();
            table[(int)k] = name.EndsWith("_rm", StringComparison.Ordinal) || name.EndsWith("_or_mem", StringComparison.Ordinal) ? OperandField.Rm
                : name.EndsWith("_vvvv", StringComparison.Ordinal) ? OperandField.Vvvv
                : name.EndsWith("_is4", StringComparison.Ordinal) ? OperandField.Is4
                : OperandField.Reg;
        }
        return table;
    }

    /// <summary>
    /// Binds the legacy- and VEX-encoded SIMD instructions that have an entry in the SIMD operation table (Iced has
    /// already rejected, as Code.INVALID, VEX after a 66, F2, F3, REX or LOCK prefix and a VEX.L or VEX.vvvv the
    /// instruction does not allow). Operand registers follow the encoding's fields, whatever their role:
    /// op.R = ModRM.reg (XMM, YMM, MM or GPR number), op.Rm = the ModRM.r/m register, or the memory operand;
    /// op.Sub = VEX.vvvv (<see cref="DecodedOp.NoRegister"/> when the form has no vvvv operand; legacy forms: unused);
    /// op.Immediate = imm8, and for the /is4 forms (VBLENDVPS ...) the fourth register number in imm8[7:4];
    /// op.Size = the vector length in bytes of a VEX form (16 for VEX.128 and the scalar LIG forms, 32 for VEX.256),
    /// replaced by the register size when an operand is a general-purpose register (as for the legacy forms);
    /// op.Imm16 = the table index. So the destination is op.R for most forms, op.Rm for stores, op.Sub for the VEX
    /// shifts by immediate (VPSLLW xmm1, xmm2, imm8 writes vvvv).
    /// </summary>
    private bool BindSimd(in Instruction instr, ref DecodedOp op)
    {
        if (instr.Encoding is not (EncodingKind.Legacy or EncodingKind.VEX)) return false;
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
        if (instr.Encoding == EncodingKind.VEX)
        {
            op.Sub = DecodedOp.NoRegister;
            op.Size = (byte)(!info.IsLIG && info.L == 1 ? 32 : 16);
        }
        for (var i = 0; i < instr.OpCount; i++)
        {
            switch (instr.GetOpKind(i))
            {
                case OpKind.Register:
                {
                    var r = instr.GetOpRegister(i);
                    var number = r.IsXMM() ? (byte)(r - IcedRegister.XMM0) : r.IsYMM() ? (byte)(r - IcedRegister.YMM0)
                        : r.IsMM() ? (byte)(r - IcedRegister.MM0) : Gpr(r);
                    switch (OperandFields[(int)info.GetOpKind(i)])
                    {
                        case OperandField.Rm: op.Rm = number; break;
                        case OperandField.Vvvv: op.Sub = number; break;
                        case OperandField.Is4: op.Immediate = (ulong)number << 4; break;
                        default: op.R = number; break;
                    }
                    if (r.IsGPR()) op.Size = (byte)r.GetSize();
                    break;
                }
                case OpKind.Memory:
                    BindMemory(in instr, ref op);
                    break;
                case OpKind.MemorySegDI or OpKind.MemorySegEDI or OpKind.MemorySegRDI:
                    // MASKMOVQ and (V)MASKMOVDQU store to DS:rDI, the segment overridable.
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
