using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 basic arithmetic instructions (SDM vol. 1, 5.2.2): FADD, FSUB, FSUBR, FMUL, FDIV, FDIVR in their register,
/// pop, real and integer memory forms, and FCHS, FABS, FSQRT, FRNDINT, FSCALE, FPREM, FPREM1, FXTRACT. An unmasked #IA,
/// #Z or #D leaves the destination and the stack unchanged; an empty operand is a stack underflow whose masked response
/// writes the real indefinite.
/// </summary>
public sealed unsafe partial class Processor
{
    private static bool X87Arithmetic(Processor p, ref DecodedOp op) => p.ExecuteX87Arithmetic(ref op);

    private bool ExecuteX87Arithmetic(ref DecodedOp op)
    {
        if (!FpuBegin(ref op)) return false;
        var sub = op.Sub;
        if (sub >= X87Sub.ChangeSign) return FpuArithmeticOneOperand(ref op);
        var form = sub >> 3;
        ExtendedReal a, b;
        int destination;
        var loadExceptions = FpuExceptions.None;
        if (form >= X87Sub.FormReal32)
        {
            if (!FpuReadSource(ref op, form - 2, out b, out loadExceptions)) return false;
            if (FpuIsEmpty(0)) return FpuUnderflowInto(ref op, 0, false);
            a = St(0);
            destination = 0;
        }
        else
        {
            if (FpuIsEmpty(0) || FpuIsEmpty(op.Rm)) return FpuUnderflowInto(ref op, form == X87Sub.FormSt0Sti ? 0 : op.Rm, form == X87Sub.FormStiSt0Pop);
            if (form == X87Sub.FormSt0Sti)
            {
                a = St(0);
                b = St(op.Rm);
                destination = 0;
            }
            else
            {
                a = St(op.Rm);
                b = St(0);
                destination = op.Rm;
            }
        }
        var cw = FpuCw;
        // The fast path reports at most #P, which stops nothing; a denormal memory operand (normal once loaded) has its #D.
        if (loadExceptions == FpuExceptions.None && NormalArithmetic.TryCompute(sub & 7, a, b, cw, out var fast))
        {
            FpuReport(fast.Exceptions, fast.RoundedUp);
            St(destination) = fast.Value;
            if (form == X87Sub.FormStiSt0Pop) FpuPop();
            return Next(ref op);
        }
        var r = (sub & 7) switch
        {
            X87Sub.Add => BasicArithmetic.GeneralAdd(a, b, b.Sign, cw),
            X87Sub.Multiply => BasicArithmetic.GeneralMultiply(a, b, cw),
            X87Sub.Subtract => BasicArithmetic.GeneralAdd(a, b, !b.Sign, cw),
            X87Sub.SubtractReverse => BasicArithmetic.GeneralAdd(b, a, !a.Sign, cw),
            X87Sub.Divide => BasicArithmetic.GeneralDivide(a, b, cw),
            _ => BasicArithmetic.GeneralDivide(b, a, cw),
        };
        if (loadExceptions != FpuExceptions.None)
        {
            // As for a register dividend, a zero divisor's #Z leaves a denormal memory dividend's #D unreported (the hardware's FDIVR m32/m64).
            var load = (r.Exceptions & FpuExceptions.ZeroDivide) != 0 ? loadExceptions & ~FpuExceptions.Denormal : loadExceptions;
            r = r with { Exceptions = r.Exceptions | FpuSourceExceptions(load, a) };
        }
        return FpuComplete(ref op, r, destination, form == X87Sub.FormStiSt0Pop);
    }

    /// <summary>
    /// The exceptions of loading a memory operand that the operation reports: a NaN or unsupported register operand
    /// takes precedence over the denormal exception of a denormal memory operand.
    /// </summary>
    private static FpuExceptions FpuSourceExceptions(FpuExceptions loadExceptions, ExtendedReal register) =>
        register.IsNaN || register.IsUnsupported ? loadExceptions & ~FpuExceptions.Denormal : loadExceptions;

    /// <summary>Writes a result to ST(<paramref name="destination"/>) unless an unmasked #IA, #Z or #D stops it, reports its exceptions and C1, and pops.</summary>
    private bool FpuComplete(ref DecodedOp op, FpuResult r, int destination, bool pop)
    {
        var cw = FpuCw;
        if (r.StopsInstruction(cw))
        {
            FpuReport(FpuResult.StoppingExceptions(r.Exceptions, cw), false);
            return Next(ref op);
        }
        FpuReport(r.Exceptions, r.RoundedUp);
        St(destination) = r.Value;
        if (pop) FpuPop();
        return Next(ref op);
    }

    /// <summary>A stack underflow of an instruction with a register destination: masked, the destination gets the real indefinite.</summary>
    private bool FpuUnderflowInto(ref DecodedOp op, int destination, bool pop)
    {
        if (FpuStackUnderflow()) return Next(ref op);
        FpuSetSt(destination, ExtendedReal.RealIndefinite);
        if (pop) FpuPop();
        return Next(ref op);
    }

    private bool FpuArithmeticOneOperand(ref DecodedOp op)
    {
        var two = op.Sub is X87Sub.Scale or X87Sub.PartialRemainder or X87Sub.PartialRemainder1;
        if (op.Sub == X87Sub.ExtractExponent) return FpuExtract(ref op);
        if (FpuIsEmpty(0) || (two && FpuIsEmpty(1)))
        {
            if (op.Sub is X87Sub.PartialRemainder or X87Sub.PartialRemainder1) _fpuStatus &= unchecked((ushort)~FswC2);
            return FpuUnderflowInto(ref op, 0, false);
        }
        var a = St(0);
        var cw = FpuCw;
        switch (op.Sub)
        {
            case X87Sub.ChangeSign:
                FpuReport(FpuExceptions.None, false);
                St(0) = a.Negate();
                return Next(ref op);
            case X87Sub.Absolute:
                FpuReport(FpuExceptions.None, false);
                St(0) = a.Abs();
                return Next(ref op);
            case X87Sub.SquareRoot: return FpuComplete(ref op, BasicArithmetic.SquareRoot(a, cw), 0, false);
            case X87Sub.RoundToInteger: return FpuComplete(ref op, RoundToInteger.Round(a, cw), 0, false);
            case X87Sub.Scale: return FpuComplete(ref op, Scale.Apply(a, St(1), cw), 0, false);
            default:
            {
                var r = op.Sub == X87Sub.PartialRemainder ? PartialRemainder.Fprem(a, St(1), cw) : PartialRemainder.Fprem1(a, St(1), cw);
                if (r.StopsInstruction(cw))
                {
                    // As for a NaN result, C1 and C2 are cleared (the host's x87 does so) and C0, C3 left alone.
                    _fpuStatus &= unchecked((ushort)~(FswC1 | FswC2));
                    FpuSignal(FpuResult.StoppingExceptions(r.Exceptions, cw));
                    return Next(ref op);
                }
                // A NaN result (an invalid or NaN operand) leaves C0 and C3 alone and clears C1 and C2.
                if (r.Value.IsNaN) _fpuStatus &= unchecked((ushort)~(FswC1 | FswC2));
                else FpuSetConditionCodes(r.ConditionCodes);
                FpuSignal(r.Exceptions);
                St(0) = r.Value;
                return Next(ref op);
            }
        }
    }

    /// <summary>FXTRACT: the exponent replaces ST(0) and the significand is pushed.</summary>
    private bool FpuExtract(ref DecodedOp op)
    {
        if (FpuIsEmpty(0) || FpuPushOverflows)
        {
            FpuStackFault(!FpuIsEmpty(0));
            if (FpuCw.IsMasked(FpuExceptions.Invalid))
            {
                FpuSetSt(0, ExtendedReal.RealIndefinite);
                FpuPush(ExtendedReal.RealIndefinite);
            }
            return Next(ref op);
        }
        var r = ExtractExponent.Extract(St(0));
        var cw = FpuCw;
        if (FpuResult.StoppingExceptions(r.Exceptions, cw) != FpuExceptions.None)
        {
            FpuReport(FpuResult.StoppingExceptions(r.Exceptions, cw), false);
            return Next(ref op);
        }
        FpuReport(r.Exceptions, false);
        St(0) = r.Exponent;
        FpuPush(r.Significand);
        return Next(ref op);
    }
}
