using Iced.Intel;
using IcedRegister = Iced.Intel.Register;

namespace Sim.Cpu;

/// <summary>Binds the x87 instructions (SDM vol. 1, 5.2) to the five x87 handlers, the operation in <see cref="DecodedOp.Sub"/> (<see cref="X87Sub"/>).</summary>
public sealed unsafe partial class Processor
{
    private bool BindX87(in Instruction instr, ref DecodedOp op)
    {
        var m = instr.Mnemonic;
        op.Imm16 = X87Opcode(in instr);
        for (var i = 0; i < instr.OpCount; i++)
        {
            if (IsReg(in instr, i) && instr.GetOpRegister(i) is >= IcedRegister.ST1 and <= IcedRegister.ST7) op.Rm = (byte)(instr.GetOpRegister(i) - IcedRegister.ST0);
        }
        if (op.Rm == DecodedOp.NoRegister) op.Rm = 0;
        var memory = instr.OpCount > 0 && IsMem(in instr, 0) ? instr.MemorySize : MemorySize.Unknown;
        if (memory != MemorySize.Unknown) BindMemory(in instr, ref op);
        var sti0 = instr.OpCount == 2 && instr.GetOpRegister(1) == IcedRegister.ST0 && instr.GetOpRegister(0) != IcedRegister.ST0;
        switch (m)
        {
            case Mnemonic.Fld:
                return Bind87(ref op, Handler.X87Transfer, memory switch
                {
                    MemorySize.Float32 => X87Sub.LoadReal32,
                    MemorySize.Float64 => X87Sub.LoadReal64,
                    MemorySize.Float80 => X87Sub.LoadReal80,
                    _ => X87Sub.LoadRegister,
                });
            case Mnemonic.Fild:
                return Bind87(ref op, Handler.X87Transfer, memory switch
                {
                    MemorySize.Int16 => X87Sub.LoadInt16,
                    MemorySize.Int32 => X87Sub.LoadInt32,
                    _ => X87Sub.LoadInt64,
                });
            case Mnemonic.Fbld: return Bind87(ref op, Handler.X87Transfer, X87Sub.LoadBcd);
            case Mnemonic.Fst or Mnemonic.Fstp or Mnemonic.Fstpnce:
                op.R = (byte)(m == Mnemonic.Fst ? 0 : 1);
                return Bind87(ref op, Handler.X87Transfer, memory switch
                {
                    MemorySize.Float32 => X87Sub.StoreReal32,
                    MemorySize.Float64 => X87Sub.StoreReal64,
                    MemorySize.Float80 => X87Sub.StoreReal80,
                    _ => X87Sub.StoreRegister,
                });
            case Mnemonic.Fist or Mnemonic.Fistp:
                op.R = (byte)(m == Mnemonic.Fist ? 0 : 1);
                return Bind87(ref op, Handler.X87Transfer, memory switch
                {
                    MemorySize.Int16 => X87Sub.StoreInt16,
                    MemorySize.Int32 => X87Sub.StoreInt32,
                    _ => X87Sub.StoreInt64,
                });
            case Mnemonic.Fisttp:
                op.R = 1;
                return Bind87(ref op, Handler.X87Transfer, memory switch
                {
                    MemorySize.Int16 => X87Sub.StoreTruncInt16,
                    MemorySize.Int32 => X87Sub.StoreTruncInt32,
                    _ => X87Sub.StoreTruncInt64,
                });
            case Mnemonic.Fbstp: op.R = 1; return Bind87(ref op, Handler.X87Transfer, X87Sub.StoreBcd);
            case Mnemonic.Fxch: return Bind87(ref op, Handler.X87Transfer, X87Sub.Exchange);
            case Mnemonic.Fcmovb or Mnemonic.Fcmove or Mnemonic.Fcmovbe or Mnemonic.Fcmovu
                or Mnemonic.Fcmovnb or Mnemonic.Fcmovne or Mnemonic.Fcmovnbe or Mnemonic.Fcmovnu:
                op.R = (byte)(m switch
                {
                    Mnemonic.Fcmovb => 2, Mnemonic.Fcmovnb => 3, Mnemonic.Fcmove => 4, Mnemonic.Fcmovne => 5,
                    Mnemonic.Fcmovbe => 6, Mnemonic.Fcmovnbe => 7, Mnemonic.Fcmovu => 10, _ => 11,
                });
                return Bind87(ref op, Handler.X87Transfer, X87Sub.ConditionalMove);
            case Mnemonic.Fld1 or Mnemonic.Fldl2t or Mnemonic.Fldl2e or Mnemonic.Fldpi or Mnemonic.Fldlg2 or Mnemonic.Fldln2 or Mnemonic.Fldz:
                op.R = (byte)(m switch
                {
                    Mnemonic.Fld1 => 0, Mnemonic.Fldl2t => 1, Mnemonic.Fldl2e => 2, Mnemonic.Fldpi => 3,
                    Mnemonic.Fldlg2 => 4, Mnemonic.Fldln2 => 5, _ => 6,
                });
                return Bind87(ref op, Handler.X87Transfer, X87Sub.LoadConstant);

            case Mnemonic.Fadd or Mnemonic.Fmul or Mnemonic.Fsub or Mnemonic.Fsubr or Mnemonic.Fdiv or Mnemonic.Fdivr
                or Mnemonic.Faddp or Mnemonic.Fmulp or Mnemonic.Fsubp or Mnemonic.Fsubrp or Mnemonic.Fdivp or Mnemonic.Fdivrp
                or Mnemonic.Fiadd or Mnemonic.Fimul or Mnemonic.Fisub or Mnemonic.Fisubr or Mnemonic.Fidiv or Mnemonic.Fidivr:
            {
                var operation = m switch
                {
                    Mnemonic.Fadd or Mnemonic.Faddp or Mnemonic.Fiadd => X87Sub.Add,
                    Mnemonic.Fmul or Mnemonic.Fmulp or Mnemonic.Fimul => X87Sub.Multiply,
                    Mnemonic.Fsub or Mnemonic.Fsubp or Mnemonic.Fisub => X87Sub.Subtract,
                    Mnemonic.Fsubr or Mnemonic.Fsubrp or Mnemonic.Fisubr => X87Sub.SubtractReverse,
                    Mnemonic.Fdiv or Mnemonic.Fdivp or Mnemonic.Fidiv => X87Sub.Divide,
                    _ => X87Sub.DivideReverse,
                };
                var pop = m is Mnemonic.Faddp or Mnemonic.Fmulp or Mnemonic.Fsubp or Mnemonic.Fsubrp or Mnemonic.Fdivp or Mnemonic.Fdivrp;
                var form = memory switch
                {
                    MemorySize.Float32 => X87Sub.FormReal32,
                    MemorySize.Float64 => X87Sub.FormReal64,
                    MemorySize.Int16 => X87Sub.FormInt16,
                    MemorySize.Int32 => X87Sub.FormInt32,
                    _ => pop ? X87Sub.FormStiSt0Pop : sti0 ? X87Sub.FormStiSt0 : X87Sub.FormSt0Sti,
                };
                // FADDP with no operands is FADDP ST(1), ST(0).
                if (pop && instr.OpCount == 0) op.Rm = 1;
                return Bind87(ref op, Handler.X87Arithmetic, (byte)(operation | (form << 3)));
            }
            case Mnemonic.Fchs: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.ChangeSign);
            case Mnemonic.Fabs: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.Absolute);
            case Mnemonic.Fsqrt: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.SquareRoot);
            case Mnemonic.Frndint: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.RoundToInteger);
            case Mnemonic.Fscale: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.Scale);
            case Mnemonic.Fprem: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.PartialRemainder);
            case Mnemonic.Fprem1: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.PartialRemainder1);
            case Mnemonic.Fxtract: return Bind87(ref op, Handler.X87Arithmetic, X87Sub.ExtractExponent);

            case Mnemonic.Fcom or Mnemonic.Fcomp or Mnemonic.Fcompp or Mnemonic.Fucom or Mnemonic.Fucomp or Mnemonic.Fucompp
                or Mnemonic.Ficom or Mnemonic.Ficomp or Mnemonic.Fcomi or Mnemonic.Fcomip or Mnemonic.Fucomi or Mnemonic.Fucomip
                or Mnemonic.Ftst:
            {
                var source = m == Mnemonic.Ftst ? X87Sub.SourceZero : memory switch
                {
                    MemorySize.Float32 => X87Sub.SourceReal32,
                    MemorySize.Float64 => X87Sub.SourceReal64,
                    MemorySize.Int16 => X87Sub.SourceInt16,
                    MemorySize.Int32 => X87Sub.SourceInt32,
                    _ => X87Sub.SourceRegister,
                };
                var sub = source;
                if (m is Mnemonic.Fucom or Mnemonic.Fucomp or Mnemonic.Fucompp or Mnemonic.Fucomi or Mnemonic.Fucomip) sub |= X87Sub.Unordered;
                if (m is Mnemonic.Fcomp or Mnemonic.Fucomp or Mnemonic.Ficomp or Mnemonic.Fcomip or Mnemonic.Fucomip) sub |= X87Sub.PopOnce;
                if (m is Mnemonic.Fcompp or Mnemonic.Fucompp) sub |= X87Sub.PopTwice;
                if (m is Mnemonic.Fcomi or Mnemonic.Fcomip or Mnemonic.Fucomi or Mnemonic.Fucomip) sub |= X87Sub.SetsEflags;
                // FCOM with no operand compares with ST(1).
                if (source == X87Sub.SourceRegister && instr.OpCount == 0) op.Rm = 1;
                return Bind87(ref op, Handler.X87Comparison, (byte)sub);
            }
            case Mnemonic.Fxam: return Bind87(ref op, Handler.X87Comparison, X87Sub.ExamineOp);

            case Mnemonic.Fsin: return Bind87(ref op, Handler.X87Transcendental, X87Sub.Sine);
            case Mnemonic.Fcos: return Bind87(ref op, Handler.X87Transcendental, X87Sub.Cosine);
            case Mnemonic.Fsincos: return Bind87(ref op, Handler.X87Transcendental, X87Sub.SineCosine);
            case Mnemonic.Fptan: return Bind87(ref op, Handler.X87Transcendental, X87Sub.PartialTangent);
            case Mnemonic.Fpatan: return Bind87(ref op, Handler.X87Transcendental, X87Sub.PartialArctangent);
            case Mnemonic.F2xm1: return Bind87(ref op, Handler.X87Transcendental, X87Sub.TwoToXMinus1);
            case Mnemonic.Fyl2x: return Bind87(ref op, Handler.X87Transcendental, X87Sub.YLog2X);
            case Mnemonic.Fyl2xp1: return Bind87(ref op, Handler.X87Transcendental, X87Sub.YLog2XPlus1);

            case Mnemonic.Finit or Mnemonic.Fninit: return BindControl(ref op, X87Sub.Initialize, m == Mnemonic.Finit);
            case Mnemonic.Fclex or Mnemonic.Fnclex: return BindControl(ref op, X87Sub.ClearExceptions, m == Mnemonic.Fclex);
            case Mnemonic.Fldcw: return BindControl(ref op, X87Sub.LoadControlWord, false);
            case Mnemonic.Fstcw or Mnemonic.Fnstcw: return BindControl(ref op, X87Sub.StoreControlWord, m == Mnemonic.Fstcw);
            case Mnemonic.Fstsw or Mnemonic.Fnstsw:
                return BindControl(ref op, memory == MemorySize.Unknown ? X87Sub.StoreStatusWordAx : X87Sub.StoreStatusWord, m == Mnemonic.Fstsw);
            case Mnemonic.Fstenv or Mnemonic.Fnstenv or Mnemonic.Fldenv or Mnemonic.Fsave or Mnemonic.Fnsave or Mnemonic.Frstor:
                op.Size = (byte)(memory is MemorySize.FpuEnv14 or MemorySize.FpuState94 ? 2 : 4);
                return BindControl(ref op, m switch
                {
                    Mnemonic.Fstenv or Mnemonic.Fnstenv => X87Sub.StoreEnvironment,
                    Mnemonic.Fldenv => X87Sub.LoadEnvironment,
                    Mnemonic.Fsave or Mnemonic.Fnsave => X87Sub.SaveState,
                    _ => X87Sub.RestoreState,
                }, m is Mnemonic.Fstenv or Mnemonic.Fsave);
            case Mnemonic.Wait: return BindControl(ref op, X87Sub.Wait, false);
            // The 8087's FENI/FDISI and the 287's FSETPM execute as FNOP since the 387.
            case Mnemonic.Fnop or Mnemonic.Fneni or Mnemonic.Fndisi or Mnemonic.Fnsetpm or Mnemonic.Feni or Mnemonic.Fdisi or Mnemonic.Fsetpm:
                return BindControl(ref op, X87Sub.NoOperation, false);
            case Mnemonic.Fincstp: return BindControl(ref op, X87Sub.IncrementTop, false);
            case Mnemonic.Fdecstp: return BindControl(ref op, X87Sub.DecrementTop, false);
            case Mnemonic.Ffree: return BindControl(ref op, X87Sub.Free, false);
            case Mnemonic.Ffreep: return BindControl(ref op, X87Sub.FreeAndPop, false);
        }
        return false;
    }

    private static bool Bind87(ref DecodedOp op, Handler handler, byte sub)
    {
        op.Handler = handler;
        op.Sub = sub;
        return true;
    }

    private static bool BindControl(ref DecodedOp op, byte sub, bool waits)
    {
        op.Handler = Handler.X87Control;
        op.Sub = sub;
        op.R = (byte)(waits ? 1 : 0);
        return true;
    }

    /// <summary>The FPU opcode the instruction leaves in FOP: the low three bits of its D8–DF byte and its ModRM byte (SDM vol. 1, 8.1.10).</summary>
    private ushort X87Opcode(in Instruction instr)
    {
        for (var i = 0; i < instr.Length - 1; i++)
        {
            var b = _fetchReader.InstructionByte(instr.Length, i);
            if (b is >= 0xD8 and <= 0xDF) return (ushort)(((b & 7) << 8) | _fetchReader.InstructionByte(instr.Length, i + 1));
        }
        return 0;
    }
}
