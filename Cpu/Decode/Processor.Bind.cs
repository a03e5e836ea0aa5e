using Iced.Intel;
using IcedRegister = Iced.Intel.Register;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Cpu;

public sealed unsafe partial class Processor
{
    private static int AluKind(Mnemonic m) => m switch
    {
        Mnemonic.Add => 0,
        Mnemonic.Or => 1,
        Mnemonic.Adc => 2,
        Mnemonic.Sbb => 3,
        Mnemonic.And => 4,
        Mnemonic.Sub => 5,
        Mnemonic.Xor => 6,
        _ => 7,
    };

    private static int ShiftKind(Mnemonic m) => m switch
    {
        Mnemonic.Rol => 0,
        Mnemonic.Ror => 1,
        Mnemonic.Rcl => 2,
        Mnemonic.Rcr => 3,
        Mnemonic.Shl => 4,
        Mnemonic.Shr => 5,
        Mnemonic.Sal => 6,
        _ => 7,
    };

    /// <summary>The big mapping from Iced's mnemonics and operand kinds to handlers; false for what the interpreter lacks.</summary>
    private bool BindCore(in Instruction instr, ref DecodedOp op)
    {
        var m = instr.Mnemonic;
        switch (m)
        {
            case Mnemonic.Nop:
            case Mnemonic.Prefetchnta or Mnemonic.Prefetcht0 or Mnemonic.Prefetcht1 or Mnemonic.Prefetcht2 or Mnemonic.Prefetchw:
            case Mnemonic.Endbr32 or Mnemonic.Endbr64:
                op.Handler = Handler.Nop;
                return true;
            case Mnemonic.Ud0 or Mnemonic.Ud1 or Mnemonic.Ud2:
                op.Handler = Handler.Ud;
                op.Flags |= OpFlags.EndsBlock;
                return true;

            case Mnemonic.Mov:
                if (IsReg(in instr, 0) && instr.GetOpRegister(0).IsSegmentRegister())
                {
                    op.R = SegIndex(instr.GetOpRegister(0));
                    op.Size = 2;
                    if (IsReg(in instr, 1)) { op.Handler = Handler.MovSegR; op.Rm = Gpr(instr.GetOpRegister(1)); }
                    else { op.Handler = Handler.MovSegM; BindMemory(in instr, ref op); }
                    op.Flags |= OpFlags.EndsBlock;
                    return op.R != (byte)SegmentIndex.CS;
                }
                if (IsReg(in instr, 1) && instr.GetOpRegister(1).IsSegmentRegister())
                {
                    op.Sub = SegIndex(instr.GetOpRegister(1));
                    if (IsReg(in instr, 0)) { op.Handler = Handler.MovRSeg; op.R = Gpr(instr.GetOpRegister(0)); op.Size = (byte)instr.GetOpRegister(0).GetSize(); }
                    else { op.Handler = Handler.MovMSeg; op.Size = 2; BindMemory(in instr, ref op); }
                    return true;
                }
                if (IsReg(in instr, 0) && instr.GetOpRegister(0).IsCR())
                {
                    op.Handler = Handler.MovToCr;
                    op.Sub = (byte)(instr.GetOpRegister(0) - IcedRegister.CR0);
                    op.Rm = Gpr(instr.GetOpRegister(1));
                    op.Size = (byte)(_bitness == 64 ? 8 : 4);
                    op.Flags |= OpFlags.EndsBlock;
                    return true;
                }
                if (IsReg(in instr, 1) && instr.GetOpRegister(1).IsCR())
                {
                    op.Handler = Handler.MovFromCr;
                    op.Sub = (byte)(instr.GetOpRegister(1) - IcedRegister.CR0);
                    op.R = Gpr(instr.GetOpRegister(0));
                    op.Size = (byte)(_bitness == 64 ? 8 : 4);
                    return true;
                }
                if (IsReg(in instr, 0) && instr.GetOpRegister(0).IsDR())
                {
                    op.Handler = Handler.MovToDr;
                    op.Sub = (byte)(instr.GetOpRegister(0) - IcedRegister.DR0);
                    op.Rm = Gpr(instr.GetOpRegister(1));
                    op.Size = (byte)(_bitness == 64 ? 8 : 4);
                    op.Flags |= OpFlags.EndsBlock;
                    return true;
                }
                if (IsReg(in instr, 1) && instr.GetOpRegister(1).IsDR())
                {
                    op.Handler = Handler.MovFromDr;
                    op.Sub = (byte)(instr.GetOpRegister(1) - IcedRegister.DR0);
                    op.R = Gpr(instr.GetOpRegister(0));
                    op.Size = (byte)(_bitness == 64 ? 8 : 4);
                    return true;
                }
                if (IsReg(in instr, 0) && !instr.GetOpRegister(0).IsGPR()) return false;
                if (IsReg(in instr, 1) && !instr.GetOpRegister(1).IsGPR()) return false;
                return BindBinary(in instr, ref op, Handler.MovRR, Handler.MovRM, Handler.MovMR, Handler.MovRI, Handler.MovMI);

            case Mnemonic.Movzx or Mnemonic.Movsx or Mnemonic.Movsxd:
            {
                var zero = m == Mnemonic.Movzx;
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                op.Sub = (byte)OperandSize(in instr, 1);
                if (IsReg(in instr, 1)) { op.Handler = zero ? Handler.MovzxRR : Handler.MovsxRR; op.Rm = Gpr(instr.GetOpRegister(1)); }
                else { op.Handler = zero ? Handler.MovzxRM : Handler.MovsxRM; BindMemory(in instr, ref op); }
                return true;
            }

            case Mnemonic.Lea:
                op.Handler = Handler.Lea;
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                BindMemory(in instr, ref op);
                return true;

            case Mnemonic.Xchg:
                op.Size = (byte)OperandSize(in instr, 0);
                if (IsReg(in instr, 0) && IsReg(in instr, 1))
                {
                    op.Handler = Handler.XchgRR;
                    op.R = Gpr(instr.GetOpRegister(0));
                    op.Rm = Gpr(instr.GetOpRegister(1));
                }
                else
                {
                    op.Handler = Handler.XchgRM;
                    op.R = Gpr(instr.GetOpRegister(IsReg(in instr, 0) ? 0 : 1));
                    BindMemory(in instr, ref op);
                }
                return true;

            case Mnemonic.Push:
                op.Size = (byte)(-instr.StackPointerIncrement);
                if (IsReg(in instr, 0) && instr.GetOpRegister(0).IsSegmentRegister())
                {
                    op.Handler = Handler.PushSeg;
                    op.Sub = SegIndex(instr.GetOpRegister(0));
                }
                else if (IsReg(in instr, 0)) { op.Handler = Handler.PushR; op.R = Gpr(instr.GetOpRegister(0)); }
                else if (IsMem(in instr, 0)) { op.Handler = Handler.PushM; BindMemory(in instr, ref op); }
                else { op.Handler = Handler.PushI; op.Immediate = instr.GetImmediate(0); }
                return true;

            case Mnemonic.Pop:
                op.Size = (byte)instr.StackPointerIncrement;
                if (IsReg(in instr, 0) && instr.GetOpRegister(0).IsSegmentRegister())
                {
                    op.Handler = Handler.PopSeg;
                    op.Sub = SegIndex(instr.GetOpRegister(0));
                    op.Flags |= OpFlags.EndsBlock;
                }
                else if (IsReg(in instr, 0)) { op.Handler = Handler.PopR; op.R = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.PopM; BindMemory(in instr, ref op); }
                return true;

            case Mnemonic.Cbw or Mnemonic.Cwde or Mnemonic.Cdqe:
                op.Handler = Handler.ConvertA;
                op.Size = (byte)(m == Mnemonic.Cbw ? 2 : m == Mnemonic.Cwde ? 4 : 8);
                return true;
            case Mnemonic.Cwd or Mnemonic.Cdq or Mnemonic.Cqo:
                op.Handler = Handler.ConvertD;
                op.Size = (byte)(m == Mnemonic.Cwd ? 2 : m == Mnemonic.Cdq ? 4 : 8);
                return true;

            case Mnemonic.Bswap:
                op.Handler = Handler.Bswap;
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                return true;
            case Mnemonic.Movbe:
                op.Size = (byte)OperandSize(in instr, 0);
                BindMemory(in instr, ref op);
                if (IsReg(in instr, 0)) { op.Handler = Handler.MovbeRM; op.R = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.MovbeMR; op.R = Gpr(instr.GetOpRegister(1)); }
                return true;

            case Mnemonic.Lahf: op.Handler = Handler.Lahf; return true;
            case Mnemonic.Salc: op.Handler = Handler.Salc; return true;
            case Mnemonic.Sahf: op.Handler = Handler.Sahf; return true;
            case Mnemonic.Pushf or Mnemonic.Pushfd or Mnemonic.Pushfq:
                op.Handler = Handler.Pushf;
                op.Size = (byte)(-instr.StackPointerIncrement);
                return true;
            case Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Popfq:
                op.Handler = Handler.Popf;
                op.Size = (byte)instr.StackPointerIncrement;
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Cmc: op.Handler = Handler.Cmc; return true;
            case Mnemonic.Clc: op.Handler = Handler.Clc; return true;
            case Mnemonic.Stc: op.Handler = Handler.Stc; return true;
            case Mnemonic.Cld: op.Handler = Handler.Cld; return true;
            case Mnemonic.Std: op.Handler = Handler.Std; return true;
            case Mnemonic.Cli: op.Handler = Handler.Cli; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Sti: op.Handler = Handler.Sti; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Clac: op.Handler = Handler.Clac; return true;
            case Mnemonic.Stac: op.Handler = Handler.Stac; return true;

            case Mnemonic.Xlatb:
                op.Handler = Handler.Xlat;
                op.Segment = SegIndex(instr.MemorySegment);
                op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
                op.Flags |= OpFlags.Memory;
                return true;

            case Mnemonic.Lds or Mnemonic.Les or Mnemonic.Lfs or Mnemonic.Lgs or Mnemonic.Lss:
                op.Handler = Handler.LoadFarPointer;
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                op.Sub = (byte)(m switch { Mnemonic.Lds => SegmentIndex.DS, Mnemonic.Les => SegmentIndex.ES, Mnemonic.Lfs => SegmentIndex.FS, Mnemonic.Lgs => SegmentIndex.GS, _ => SegmentIndex.SS });
                BindMemory(in instr, ref op);
                op.Flags |= OpFlags.EndsBlock;
                return true;

            case Mnemonic.Enter:
                op.Handler = Handler.Enter;
                op.Size = (byte)OperandSizeOfStackOp(in instr);
                op.Immediate = instr.Immediate16;
                op.Imm16 = instr.Immediate8_2nd;
                return true;
            case Mnemonic.Leave:
                op.Handler = Handler.Leave;
                op.Size = (byte)OperandSizeOfStackOp(in instr);
                return true;
            case Mnemonic.Pusha or Mnemonic.Pushad:
                op.Handler = Handler.Pusha;
                op.Size = (byte)(m == Mnemonic.Pusha ? 2 : 4);
                return true;
            case Mnemonic.Popa or Mnemonic.Popad:
                op.Handler = Handler.Popa;
                op.Size = (byte)(m == Mnemonic.Popa ? 2 : 4);
                return true;

            case Mnemonic.Add or Mnemonic.Or or Mnemonic.Adc or Mnemonic.Sbb or Mnemonic.And or Mnemonic.Sub or Mnemonic.Xor or Mnemonic.Cmp:
                op.Sub = (byte)AluKind(m);
                return BindBinary(in instr, ref op, Handler.AluRR, Handler.AluRM, Handler.AluMR, Handler.AluRI, Handler.AluMI);
            case Mnemonic.Test:
                return BindBinary(in instr, ref op, Handler.TestRR, Handler.TestMR, Handler.TestMR, Handler.TestRI, Handler.TestMI)
                    && FixTestRm(in instr, ref op);

            case Mnemonic.Inc or Mnemonic.Dec or Mnemonic.Not or Mnemonic.Neg:
                op.Sub = (byte)(m switch { Mnemonic.Inc => 0, Mnemonic.Dec => 1, Mnemonic.Not => 2, _ => 3 });
                BindUnary(in instr, ref op, Handler.UnaryR, Handler.UnaryM);
                return true;

            case Mnemonic.Rol or Mnemonic.Ror or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shl or Mnemonic.Shr or Mnemonic.Sal or Mnemonic.Sar:
                op.Sub = (byte)ShiftKind(m);
                BindUnary(in instr, ref op, Handler.ShiftR, Handler.ShiftM);
                BindCount(in instr, ref op, 1);
                return true;

            case Mnemonic.Shld or Mnemonic.Shrd:
                op.Sub = (byte)(m == Mnemonic.Shld ? 0 : 1);
                op.Size = (byte)OperandSize(in instr, 0);
                if (IsReg(in instr, 0)) { op.Handler = Handler.ShiftDoubleR; op.Rm = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.ShiftDoubleM; BindMemory(in instr, ref op); }
                op.R = Gpr(instr.GetOpRegister(1));
                op.Imm16 = IsReg(in instr, 2) ? (ushort)0xFFFF : (ushort)instr.GetImmediate(2);
                return true;

            case Mnemonic.Mul or Mnemonic.Div or Mnemonic.Idiv:
            case Mnemonic.Imul when instr.OpCount == 1:
                op.Sub = (byte)(m switch { Mnemonic.Mul => 4, Mnemonic.Imul => 5, Mnemonic.Div => 6, _ => 7 });
                BindUnary(in instr, ref op, Handler.MulDivR, Handler.MulDivM);
                return true;
            case Mnemonic.Imul:
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                if (instr.OpCount == 3) op.Immediate = instr.GetImmediate(2);
                if (IsReg(in instr, 1)) { op.Handler = instr.OpCount == 3 ? Handler.Imul3R : Handler.Imul2R; op.Rm = Gpr(instr.GetOpRegister(1)); }
                else { op.Handler = instr.OpCount == 3 ? Handler.Imul3M : Handler.Imul2M; BindMemory(in instr, ref op); }
                return true;

            case Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc:
                op.Sub = (byte)(m switch { Mnemonic.Bt => 0, Mnemonic.Bts => 1, Mnemonic.Btr => 2, _ => 3 });
                op.Size = (byte)OperandSize(in instr, 0);
                if (IsReg(in instr, 0)) { op.Handler = Handler.BitR; op.Rm = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.BitM; BindMemory(in instr, ref op); }
                if (IsReg(in instr, 1)) op.R = Gpr(instr.GetOpRegister(1));
                else op.Immediate = instr.GetImmediate(1);
                return true;

            case Mnemonic.Bsf or Mnemonic.Bsr or Mnemonic.Tzcnt or Mnemonic.Lzcnt or Mnemonic.Popcnt:
                // CPUID announces BMI1 and LZCNT (ABM) for both vendors, so F3 0F BC/BD are TZCNT and LZCNT, not BSF/BSR.
                op.Sub = (byte)(m switch { Mnemonic.Bsf => 0, Mnemonic.Bsr => 1, Mnemonic.Tzcnt => 2, Mnemonic.Lzcnt => 3, _ => 4 });
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                if (IsReg(in instr, 1)) { op.Handler = Handler.BitScanR; op.Rm = Gpr(instr.GetOpRegister(1)); }
                else { op.Handler = Handler.BitScanM; BindMemory(in instr, ref op); }
                return true;

            case Mnemonic.Andn or Mnemonic.Bextr or Mnemonic.Blsi or Mnemonic.Blsmsk or Mnemonic.Blsr or Mnemonic.Bzhi or Mnemonic.Mulx
                or Mnemonic.Pdep or Mnemonic.Pext or Mnemonic.Rorx or Mnemonic.Sarx or Mnemonic.Shlx or Mnemonic.Shrx or Mnemonic.Adcx or Mnemonic.Adox:
                return BindBitManipulation(in instr, ref op);

            case Mnemonic.Cmpxchg:
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(1));
                if (IsReg(in instr, 0)) { op.Handler = Handler.CmpxchgR; op.Rm = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.CmpxchgM; BindMemory(in instr, ref op); }
                return true;
            case Mnemonic.Cmpxchg8b or Mnemonic.Cmpxchg16b:
                op.Handler = Handler.Cmpxchg8bM;
                op.Size = (byte)(m == Mnemonic.Cmpxchg8b ? 4 : 8);
                BindMemory(in instr, ref op);
                return true;
            case Mnemonic.Xadd:
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(1));
                if (IsReg(in instr, 0)) { op.Handler = Handler.XaddR; op.Rm = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.XaddM; BindMemory(in instr, ref op); }
                return true;

            case Mnemonic.Daa or Mnemonic.Das or Mnemonic.Aaa or Mnemonic.Aas or Mnemonic.Aam or Mnemonic.Aad:
                op.Handler = Handler.Bcd;
                op.Sub = (byte)(m switch { Mnemonic.Daa => 0, Mnemonic.Das => 1, Mnemonic.Aaa => 2, Mnemonic.Aas => 3, Mnemonic.Aam => 4, _ => 5 });
                if (instr.OpCount > 0) op.Immediate = instr.GetImmediate(0);
                return true;

            case Mnemonic.Jmp:
                return BindBranch(in instr, ref op, Handler.JmpRel, Handler.JmpR, Handler.JmpM, Handler.JmpFar, Handler.JmpFarM);
            case Mnemonic.Call:
                return BindBranch(in instr, ref op, Handler.CallRel, Handler.CallR, Handler.CallM, Handler.CallFar, Handler.CallFarM);
            case Mnemonic.Ret:
                op.Handler = Handler.Ret;
                op.Size = (byte)OperandSizeOfStackOp(in instr);
                op.Immediate = instr.OpCount > 0 ? instr.GetImmediate(0) : 0;
                return true;
            case Mnemonic.Retf:
                op.Handler = Handler.RetFar;
                op.Size = (byte)OperandSizeOfStackOp(in instr);
                op.Immediate = instr.OpCount > 0 ? instr.GetImmediate(0) : 0;
                return true;
            case Mnemonic.Iret or Mnemonic.Iretd or Mnemonic.Iretq:
                op.Handler = Handler.Iret;
                op.Size = (byte)(m == Mnemonic.Iret ? 2 : m == Mnemonic.Iretd ? 4 : 8);
                return true;
            case Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne or Mnemonic.Jcxz or Mnemonic.Jecxz or Mnemonic.Jrcxz:
                op.Handler = Handler.Loop;
                op.Sub = (byte)(m switch { Mnemonic.Loop => 0, Mnemonic.Loope => 1, Mnemonic.Loopne => 2, _ => 3 });
                op.AddressShift = (byte)(64 - 8 * (m switch { Mnemonic.Jcxz => 2, Mnemonic.Jecxz => 4, Mnemonic.Jrcxz => 8, _ => AddressSizeOf(in instr) }));
                op.Size = (byte)BranchOperandSize(in instr);
                op.Immediate = instr.NearBranchTarget - instr.NextIP;
                return true;
            case Mnemonic.Int:
                op.Handler = Handler.Int;
                op.Immediate = instr.Immediate8;
                return true;
            case Mnemonic.Int3: op.Handler = Handler.Int3; return true;
            case Mnemonic.Into: op.Handler = Handler.Into; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Int1: op.Handler = Handler.Int1; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Bound:
                op.Handler = Handler.Bound;
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                BindMemory(in instr, ref op);
                return true;

            case Mnemonic.In:
                op.Size = (byte)OperandSize(in instr, 0);
                if (IsImm(in instr, 1)) { op.Handler = Handler.InI; op.Imm16 = (ushort)instr.GetImmediate(1); }
                else op.Handler = Handler.InDx;
                return true;
            case Mnemonic.Out:
                op.Size = (byte)OperandSize(in instr, 1);
                if (IsImm(in instr, 0)) { op.Handler = Handler.OutI; op.Imm16 = (ushort)instr.GetImmediate(0); }
                else op.Handler = Handler.OutDx;
                op.Flags |= OpFlags.EndsBlock;
                return true;

            case Mnemonic.Hlt: op.Handler = Handler.Hlt; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Cpuid: op.Handler = Handler.Cpuid; return true;
            case Mnemonic.Rdtsc: op.Handler = Handler.Rdtsc; return true;
            case Mnemonic.Rdtscp: op.Handler = Handler.Rdtscp; return true;
            case Mnemonic.Rdmsr: op.Handler = Handler.Rdmsr; return true;
            case Mnemonic.Wrmsr: op.Handler = Handler.Wrmsr; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Rdpmc: op.Handler = Handler.Rdpmc; return true;
            case Mnemonic.Clts: op.Handler = Handler.Clts; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Lmsw:
                BindUnary(in instr, ref op, Handler.Lmsw, Handler.Lmsw);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Smsw:
                BindUnary(in instr, ref op, Handler.SmswR, Handler.SmswM);
                return true;
            case Mnemonic.Invlpg:
                op.Handler = Handler.Invlpg;
                BindMemory(in instr, ref op);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Invpcid:
                op.Handler = Handler.Invpcid;
                op.R = Gpr(instr.GetOpRegister(0));
                BindMemory(in instr, ref op);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Wbinvd or Mnemonic.Wbnoinvd: op.Handler = Handler.Wbinvd; return true;
            case Mnemonic.Invd: op.Handler = Handler.Invd; return true;
            case Mnemonic.Rsm: op.Handler = Handler.Rsm; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Lgdt or Mnemonic.Lidt or Mnemonic.Sgdt or Mnemonic.Sidt:
                op.Handler = m switch { Mnemonic.Lgdt => Handler.Lgdt, Mnemonic.Lidt => Handler.Lidt, Mnemonic.Sgdt => Handler.Sgdt, _ => Handler.Sidt };
                op.Size = (byte)(_bitness == 64 ? 8 : instr.Code.ToString().EndsWith("_16") ? 2 : 4);
                BindMemory(in instr, ref op);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Lldt: BindUnary(in instr, ref op, Handler.LldtR, Handler.LldtM); op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Sldt: BindUnary(in instr, ref op, Handler.SldtR, Handler.SldtM); return true;
            case Mnemonic.Ltr: BindUnary(in instr, ref op, Handler.LtrR, Handler.LtrM); op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Str: BindUnary(in instr, ref op, Handler.StrR, Handler.StrM); return true;
            case Mnemonic.Lar or Mnemonic.Lsl:
                op.Handler = Handler.LarLsl;
                op.Sub = (byte)(m == Mnemonic.Lar ? 0 : 1);
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                if (IsReg(in instr, 1)) op.Rm = Gpr(instr.GetOpRegister(1));
                else BindMemory(in instr, ref op);
                return true;
            case Mnemonic.Verr or Mnemonic.Verw:
                op.Handler = Handler.VerrVerw;
                op.Sub = (byte)(m == Mnemonic.Verr ? 0 : 1);
                op.Size = 2;
                if (IsReg(in instr, 0)) op.Rm = Gpr(instr.GetOpRegister(0));
                else BindMemory(in instr, ref op);
                return true;
            case Mnemonic.Arpl:
                op.Size = 2;
                op.R = Gpr(instr.GetOpRegister(1));
                if (IsReg(in instr, 0)) { op.Handler = Handler.ArplR; op.Rm = Gpr(instr.GetOpRegister(0)); }
                else { op.Handler = Handler.ArplM; BindMemory(in instr, ref op); }
                return true;
            case Mnemonic.Syscall: op.Handler = Handler.Syscall; return true;
            case Mnemonic.Sysret or Mnemonic.Sysretq:
                op.Handler = Handler.Sysret;
                op.Size = (byte)(m == Mnemonic.Sysretq ? 8 : 4);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Sysenter: op.Handler = Handler.Sysenter; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Sysexit or Mnemonic.Sysexitq:
                op.Handler = Handler.Sysexit;
                op.Size = (byte)(m == Mnemonic.Sysexitq ? 8 : 4);
                op.Flags |= OpFlags.EndsBlock;
                return true;
            case Mnemonic.Swapgs: op.Handler = Handler.Swapgs; return true;
            case Mnemonic.Rdfsbase or Mnemonic.Rdgsbase or Mnemonic.Wrfsbase or Mnemonic.Wrgsbase:
                op.Handler = m is Mnemonic.Rdfsbase or Mnemonic.Rdgsbase ? Handler.ReadSegmentBase : Handler.WriteSegmentBase;
                op.Sub = (byte)(m is Mnemonic.Rdfsbase or Mnemonic.Wrfsbase ? SegmentIndex.FS : SegmentIndex.GS);
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                return true;
            case Mnemonic.Rdrand or Mnemonic.Rdseed:
                op.Handler = Handler.RandomNumber;
                op.Sub = (byte)(m == Mnemonic.Rdseed ? 1 : 0);
                op.Size = (byte)OperandSize(in instr, 0);
                op.R = Gpr(instr.GetOpRegister(0));
                return true;
            case Mnemonic.Pause: op.Handler = Handler.Pause; return true;
            case Mnemonic.Lfence or Mnemonic.Sfence or Mnemonic.Mfence:
                op.Handler = Handler.Fence;
                return true;
            case Mnemonic.Clflush or Mnemonic.Clflushopt or Mnemonic.Clwb:
                op.Handler = Handler.Fence;
                op.Sub = 1;
                BindMemory(in instr, ref op);
                return true;
            case Mnemonic.Xgetbv: op.Handler = Handler.Xgetbv; return true;
            case Mnemonic.Xsetbv: op.Handler = Handler.Xsetbv; op.Flags |= OpFlags.EndsBlock; return true;
            case Mnemonic.Monitor or Mnemonic.Mwait:
                op.Handler = Handler.MonitorMwait;
                op.Sub = (byte)(m == Mnemonic.Monitor ? 0 : 1);
                op.Flags |= OpFlags.EndsBlock;
                // MONITOR's address is DS:rAX (a segment prefix may replace DS) in the address size.
                op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
                op.Segment = m == Mnemonic.Monitor ? SegIndex(instr.MemorySegment) : (byte)SegmentIndex.DS;
                return true;

            case Mnemonic.Vmcall or Mnemonic.Vmlaunch or Mnemonic.Vmresume or Mnemonic.Vmxoff or Mnemonic.Vmxon or Mnemonic.Vmclear
                or Mnemonic.Vmptrld or Mnemonic.Vmptrst or Mnemonic.Vmread or Mnemonic.Vmwrite or Mnemonic.Invept or Mnemonic.Invvpid
                or Mnemonic.Vmfunc or Mnemonic.Vmrun or Mnemonic.Vmload or Mnemonic.Vmsave or Mnemonic.Vmmcall or Mnemonic.Stgi
                or Mnemonic.Clgi or Mnemonic.Invlpga or Mnemonic.Skinit or Mnemonic.Getsec:
                op.Handler = Handler.VirtualizationInstruction;
                op.Immediate = (ulong)instr.Code;
                op.Size = (byte)(_bitness == 64 ? 8 : 4);
                for (var i = 0; i < instr.OpCount; i++)
                {
                    if (IsMem(in instr, i)) BindMemory(in instr, ref op);
                    else if (IsReg(in instr, i) && instr.GetOpRegister(i).IsGPR())
                    {
                        if (op.R == DecodedOp.NoRegister) op.R = Gpr(instr.GetOpRegister(i));
                        else op.Rm = Gpr(instr.GetOpRegister(i));
                    }
                }
                op.Flags |= OpFlags.EndsBlock;
                return true;
        }

        if (instr.IsStringInstruction) return BindString(in instr, ref op);
        if (instr.IsJccShortOrNear)
        {
            op.Handler = Handler.Jcc;
            op.Sub = (byte)ConditionCode(instr.ConditionCode);
            op.Size = (byte)BranchOperandSize(in instr);
            op.Immediate = instr.NearBranchTarget - instr.NextIP;
            return true;
        }
        if (instr.ConditionCode != Iced.Intel.ConditionCode.None && m.ToString().StartsWith("Set"))
        {
            op.Sub = (byte)ConditionCode(instr.ConditionCode);
            BindUnary(in instr, ref op, Handler.SetccR, Handler.SetccM);
            return true;
        }
        if (instr.ConditionCode != Iced.Intel.ConditionCode.None && m.ToString().StartsWith("Cmov"))
        {
            op.Sub = (byte)ConditionCode(instr.ConditionCode);
            op.Size = (byte)OperandSize(in instr, 0);
            op.R = Gpr(instr.GetOpRegister(0));
            if (IsReg(in instr, 1)) { op.Handler = Handler.CmovRR; op.Rm = Gpr(instr.GetOpRegister(1)); }
            else { op.Handler = Handler.CmovRM; BindMemory(in instr, ref op); }
            return true;
        }
        return false;
    }

    private static bool FixTestRm(in Instruction instr, ref DecodedOp op)
    {
        // TEST r, r/m is symmetric: Iced puts the r/m operand first; a register-first memory form is stored as TestMR.
        if (op.Handler == Handler.TestMR && IsReg(in instr, 0)) op.R = Gpr(instr.GetOpRegister(0));
        return true;
    }

    private static void BindCount(in Instruction instr, ref DecodedOp op, int operand)
    {
        if (IsReg(in instr, operand)) op.Imm16 = 0xFFFF;
        else op.Imm16 = (ushort)(instr.GetImmediate(operand) & 0xFF);
    }

    private int OperandSizeOfStackOp(in Instruction instr)
    {
        var inc = Math.Abs(instr.StackPointerIncrement);
        return instr.Mnemonic switch
        {
            // Iced names the operand size by the letter after the mnemonic: Retnd_imm16, Retfw, Enterq_imm16_imm8, Leaved.
            Mnemonic.Ret or Mnemonic.Retf => SizeLetter(instr.Code.ToString()[4]),
            Mnemonic.Enter or Mnemonic.Leave => SizeLetter(instr.Code.ToString()[5]),
            _ => inc,
        };
    }

    private static int SizeLetter(char c) => c switch { 'w' => 2, 'd' => 4, _ => 8 };

    private int BranchOperandSize(in Instruction instr) => instr.GetOpKind(0) switch
    {
        OpKind.NearBranch16 => 2,
        OpKind.NearBranch32 => 4,
        OpKind.NearBranch64 => 8,
        _ => _bitness / 8,
    };

    private bool BindBranch(in Instruction instr, ref DecodedOp op, Handler rel, Handler reg, Handler mem, Handler far, Handler farMem)
    {
        switch (instr.GetOpKind(0))
        {
            case OpKind.NearBranch16 or OpKind.NearBranch32 or OpKind.NearBranch64:
                op.Handler = rel;
                op.Size = (byte)BranchOperandSize(in instr);
                op.Immediate = instr.NearBranchTarget - instr.NextIP;
                return true;
            case OpKind.FarBranch16 or OpKind.FarBranch32:
                op.Handler = far;
                op.Size = (byte)(instr.GetOpKind(0) == OpKind.FarBranch16 ? 2 : 4);
                op.Immediate = instr.GetOpKind(0) == OpKind.FarBranch16 ? instr.FarBranch16 : instr.FarBranch32;
                op.Imm16 = instr.FarBranchSelector;
                return true;
            case OpKind.Register:
                op.Handler = reg;
                op.Size = (byte)OperandSize(in instr, 0);
                op.Rm = Gpr(instr.GetOpRegister(0));
                return true;
            default:
                var memSize = instr.MemorySize.GetSize();
                if (instr.MemorySize is MemorySize.SegPtr16 or MemorySize.SegPtr32 or MemorySize.SegPtr64)
                {
                    op.Handler = farMem;
                    op.Size = (byte)(memSize - 2);
                }
                else
                {
                    op.Handler = mem;
                    op.Size = (byte)memSize;
                }
                BindMemory(in instr, ref op);
                return true;
        }
    }

    private bool BindString(in Instruction instr, ref DecodedOp op)
    {
        var m = instr.Mnemonic;
        var kind = m switch
        {
            Mnemonic.Movsb or Mnemonic.Movsw or Mnemonic.Movsd or Mnemonic.Movsq => 0,
            Mnemonic.Cmpsb or Mnemonic.Cmpsw or Mnemonic.Cmpsd or Mnemonic.Cmpsq => 1,
            Mnemonic.Stosb or Mnemonic.Stosw or Mnemonic.Stosd or Mnemonic.Stosq => 2,
            Mnemonic.Lodsb or Mnemonic.Lodsw or Mnemonic.Lodsd or Mnemonic.Lodsq => 3,
            Mnemonic.Scasb or Mnemonic.Scasw or Mnemonic.Scasd or Mnemonic.Scasq => 4,
            Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd => 5,
            Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd => 6,
            _ => -1,
        };
        if (kind < 0) return false;
        op.Handler = Handler.StringOp;
        op.Sub = (byte)kind;
        var last = m.ToString()[^1];
        op.Size = (byte)(last switch { 'b' => 1, 'w' => 2, 'd' => 4, _ => 8 });
        op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
        op.Segment = (byte)SegmentIndex.DS;
        for (var i = 0; i < instr.OpCount; i++)
        {
            if (instr.GetOpKind(i) is OpKind.MemorySegSI or OpKind.MemorySegESI or OpKind.MemorySegRSI)
                op.Segment = SegIndex(instr.MemorySegment);
        }
        if ((op.Flags & (OpFlags.Rep | OpFlags.Repne)) != 0 || kind is 5 or 6) op.Flags |= OpFlags.EndsBlock;
        return true;
    }

    private static byte Gpr(IcedRegister r)
    {
        switch (r)
        {
            case IcedRegister.AH: return 16;
            case IcedRegister.CH: return 17;
            case IcedRegister.DH: return 18;
            case IcedRegister.BH: return 19;
            case IcedRegister.None: return DecodedOp.NoRegister;
        }
        if (!r.IsGPR()) return DecodedOp.NoRegister;
        return (byte)(r.GetFullRegister() - IcedRegister.RAX);
    }

    private static byte SegIndex(IcedRegister r) => r == IcedRegister.None ? DecodedOp.NoRegister : (byte)(r - IcedRegister.ES);

    private void BindMemory(in Instruction instr, ref DecodedOp op)
    {
        op.Flags |= OpFlags.Memory;
        op.Segment = SegIndex(instr.MemorySegment);
        // 64-bit mode ignores ES/CS/SS/DS overrides: the base register decides (SS for rSP/rBP), which matters for #SS vs #GP.
        if (_bitness == 64 && op.Segment <= (byte)SegmentIndex.DS)
            op.Segment = (byte)(instr.MemoryBase is IcedRegister.RSP or IcedRegister.RBP or IcedRegister.ESP or IcedRegister.EBP ? SegmentIndex.SS : SegmentIndex.DS);
        if (instr.SegmentPrefix != IcedRegister.None) op.Flags |= OpFlags.SegmentOverride;
        var baseReg = instr.MemoryBase;
        op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
        if (baseReg is IcedRegister.RIP or IcedRegister.EIP)
        {
            op.Base = DecodedOp.RipRegister;
            op.Displacement = (long)(instr.MemoryDisplacement64 - instr.NextIP);
        }
        else
        {
            op.Base = Gpr(baseReg);
            op.Displacement = (long)instr.MemoryDisplacement64;
        }
        // VSIB (the gathers): the index is a vector register, held as its number.
        var index = instr.MemoryIndex;
        op.IndexReg = index.IsXMM() ? (byte)(index - IcedRegister.XMM0) : index.IsYMM() ? (byte)(index - IcedRegister.YMM0) : Gpr(index);
        op.Scale = (byte)(instr.MemoryIndexScale switch { 1 => 0, 2 => 1, 4 => 2, _ => 3 });
    }

    /// <summary>The address size in bytes; Iced shows it through the registers or displacement size of the memory operand.</summary>
    private int AddressSizeOf(in Instruction instr)
    {
        for (var i = 0; i < instr.OpCount; i++)
        {
            switch (instr.GetOpKind(i))
            {
                case OpKind.MemorySegSI or OpKind.MemorySegDI or OpKind.MemoryESDI: return 2;
                case OpKind.MemorySegESI or OpKind.MemorySegEDI or OpKind.MemoryESEDI: return 4;
                case OpKind.MemorySegRSI or OpKind.MemorySegRDI or OpKind.MemoryESRDI: return 8;
                case OpKind.Memory:
                    if (instr.MemoryBase is IcedRegister.RIP) return 8;
                    if (instr.MemoryBase is IcedRegister.EIP) return 4;
                    if (instr.MemoryBase != IcedRegister.None) return instr.MemoryBase.GetSize();
                    if (instr.MemoryIndex.IsGPR() && instr.Mnemonic != Mnemonic.Xlatb) return instr.MemoryIndex.GetSize();
                    if (instr.MemoryDisplSize is 2 or 4 or 8) return instr.MemoryDisplSize;
                    break;
            }
        }
        var name = instr.Code.ToString();
        if (name.EndsWith("_CX")) return 2;
        if (name.EndsWith("_ECX")) return 4;
        if (name.EndsWith("_RCX")) return 8;
        return _bitness / 8;
    }

    private static int OperandSize(in Instruction instr, int operand)
    {
        return instr.GetOpKind(operand) switch
        {
            OpKind.Register => instr.GetOpRegister(operand).GetSize(),
            OpKind.Memory => instr.MemorySize.GetSize(),
            OpKind.Immediate8 => 1,
            OpKind.Immediate16 => 2,
            OpKind.Immediate32 => 4,
            OpKind.Immediate64 => 8,
            _ => 0,
        };
    }

    private static bool IsMem(in Instruction instr, int operand) => instr.GetOpKind(operand) == OpKind.Memory;

    private static bool IsReg(in Instruction instr, int operand) => instr.GetOpKind(operand) == OpKind.Register;

    private static bool IsImm(in Instruction instr, int operand) =>
        instr.GetOpKind(operand) is OpKind.Immediate8 or OpKind.Immediate16 or OpKind.Immediate32 or OpKind.Immediate64
            or OpKind.Immediate8to16 or OpKind.Immediate8to32 or OpKind.Immediate8to64 or OpKind.Immediate32to64 or OpKind.Immediate8_2nd;

    /// <summary>Sets the form of a two-operand instruction "op0 op= op1" from its operand kinds.</summary>
    private bool BindBinary(in Instruction instr, ref DecodedOp op, Handler rr, Handler rm, Handler mr, Handler ri, Handler mi)
    {
        op.Size = (byte)OperandSize(in instr, 0);
        if (IsReg(in instr, 0))
        {
            op.R = Gpr(instr.GetOpRegister(0));
            if (IsReg(in instr, 1)) { op.Handler = rr; op.Rm = Gpr(instr.GetOpRegister(1)); }
            else if (IsMem(in instr, 1)) { op.Handler = rm; BindMemory(in instr, ref op); }
            else { op.Handler = ri; op.Immediate = instr.GetImmediate(1); }
            return op.R != DecodedOp.NoRegister;
        }
        BindMemory(in instr, ref op);
        if (IsReg(in instr, 1)) { op.Handler = mr; op.R = Gpr(instr.GetOpRegister(1)); }
        else { op.Handler = mi; op.Immediate = instr.GetImmediate(1); }
        return true;
    }

    /// <summary>A one-operand register-or-memory form.</summary>
    private void BindUnary(in Instruction instr, ref DecodedOp op, Handler r, Handler m, int operand = 0)
    {
        op.Size = (byte)OperandSize(in instr, operand);
        if (IsReg(in instr, operand))
        {
            op.Handler = r;
            op.Rm = Gpr(instr.GetOpRegister(operand));
            op.R = op.Rm;
        }
        else
        {
            op.Handler = m;
            BindMemory(in instr, ref op);
        }
    }

    private static int ConditionCode(ConditionCode cc) => cc switch
    {
        Iced.Intel.ConditionCode.o => 0,
        Iced.Intel.ConditionCode.no => 1,
        Iced.Intel.ConditionCode.b => 2,
        Iced.Intel.ConditionCode.ae => 3,
        Iced.Intel.ConditionCode.e => 4,
        Iced.Intel.ConditionCode.ne => 5,
        Iced.Intel.ConditionCode.be => 6,
        Iced.Intel.ConditionCode.a => 7,
        Iced.Intel.ConditionCode.s => 8,
        Iced.Intel.ConditionCode.ns => 9,
        Iced.Intel.ConditionCode.p => 10,
        Iced.Intel.ConditionCode.np => 11,
        Iced.Intel.ConditionCode.l => 12,
        Iced.Intel.ConditionCode.ge => 13,
        Iced.Intel.ConditionCode.le => 14,
        _ => 15,
    };

    /// <summary>Turns one Iced instruction into a pre-resolved operation.</summary>
    private void Bind(in Instruction instr, ref DecodedOp op)
    {
        op = default;
        op.Length = (byte)instr.Length;
        op.R = op.Rm = op.Base = op.IndexReg = DecodedOp.NoRegister;
        op.Segment = (byte)SegmentIndex.DS;
        op.AddressShift = (byte)(64 - AddressSizeOf(in instr) * 8);
        if (instr.HasRepPrefix || instr.HasRepePrefix) op.Flags |= OpFlags.Rep;
        if (instr.HasRepnePrefix) op.Flags |= OpFlags.Repne;
        if (instr.HasLockPrefix) op.Flags |= OpFlags.Lock;
        if (instr.Code == Code.INVALID)
        {
            op.Handler = Handler.Ud;
            op.Flags |= OpFlags.EndsBlock;
        }
        else if (!(IsX87(in instr) ? BindX87(in instr, ref op) : BindCore(in instr, ref op) || BindSimd(in instr, ref op)))
        {
            op.Handler = IsFpuOrSimd(in instr) ? Handler.FpuSse : Handler.Ud;
            op.Sub = (byte)(IsX87(in instr) ? 1 : instr.Encoding == EncodingKind.VEX ? 2 : 0);
            op.Flags |= OpFlags.EndsBlock;
        }
        SetHandler(ref op, op.Handler);
        // A conditional branch does not end its block: when taken it leaves the block, else the block goes on.
        if (instr.FlowControl != FlowControl.Next && op.Handler is not (Handler.Jcc or Handler.Loop)) op.Flags |= OpFlags.EndsBlock;
    }

    private static void SetHandler(ref DecodedOp op, Handler handler)
    {
        op.Handler = handler;
        op.Execute = OperationFor(in op);
    }

    /// <summary>x87 instructions (CR0.EM makes them raise #NM rather than #UD).</summary>
    private static bool IsX87(in Instruction instr) =>
        instr.Mnemonic == Mnemonic.Wait
        || (instr.Mnemonic.ToString().StartsWith('F') && instr.Mnemonic is not (Mnemonic.Fxsave or Mnemonic.Fxsave64 or Mnemonic.Fxrstor or Mnemonic.Fxrstor64 or Mnemonic.Femms));

    private static bool IsFpuOrSimd(in Instruction instr)
    {
        foreach (var f in instr.Code.CpuidFeatures())
        {
            var name = f.ToString();
            if (name.StartsWith("FPU") || name.StartsWith("MMX") || name.StartsWith("SSE") || name.StartsWith("AVX")
                || name.StartsWith("FXSR") || name.StartsWith("XSAVE") || name == "_3DNOW" || name.StartsWith("AES")
                || name == "PCLMULQDQ" || name == "F16C" || name.StartsWith("FMA") || name.StartsWith("SHA")
                || name == "GFNI" || name.StartsWith("VAES") || name.StartsWith("VPCLMUL"))
                return true;
        }
        return false;
    }
}
