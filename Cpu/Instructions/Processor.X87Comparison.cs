using Sim.Cpu.Registers;
using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 comparison and classification instructions (SDM vol. 1, 5.2.3): FCOM, FCOMP, FCOMPP, FUCOM, FUCOMP, FUCOMPP,
/// FICOM, FICOMP, FCOMI, FCOMIP, FUCOMI, FUCOMIP, FTST and FXAM. The relation goes to C3, C2, C0 (C1 cleared) or, for
/// FCOMI, to ZF, PF, CF with OF, SF and AF cleared (C1 untouched). With an unmasked #IA or #D the relation is still
/// reported, as the host's x87 does, but nothing is popped.
/// </summary>
public sealed unsafe partial class Processor
{
    private bool ExecuteX87Comparison(ref DecodedOp op)
    {
        if (!FpuBegin(ref op)) return false;
        if (op.Sub == X87Sub.ExamineOp) return FpuExamine(ref op);
        var source = op.Sub & 7;
        var pops = (op.Sub & X87Sub.PopTwice) != 0 ? 2 : (op.Sub & X87Sub.PopOnce) != 0 ? 1 : 0;
        var eflags = (op.Sub & X87Sub.SetsEflags) != 0;
        ExtendedReal b;
        var loadExceptions = FpuExceptions.None;
        var emptySource = false;
        switch (source)
        {
            case X87Sub.SourceRegister:
                emptySource = FpuIsEmpty(op.Rm);
                b = St(op.Rm);
                break;
            case X87Sub.SourceZero:
                b = ExtendedReal.PositiveZero;
                break;
            default:
                if (!FpuReadSource(ref op, source, out b, out loadExceptions)) return false;
                break;
        }
        var cw = FpuCw;
        ComparisonRelation relation;
        if (FpuIsEmpty(0) || emptySource)
        {
            // Masked or not, the relation is "unordered"; unmasked, the stack is not popped.
            if (FpuStackUnderflow()) pops = 0;
            relation = ComparisonRelation.Unordered;
        }
        else
        {
            var r = (op.Sub & X87Sub.Unordered) != 0 ? Comparison.CompareUnordered(St(0), b) : Comparison.Compare(St(0), b);
            var exceptions = r.Exceptions | FpuSourceExceptions(loadExceptions, St(0));
            var stopping = FpuResult.StoppingExceptions(exceptions, cw);
            if (stopping != FpuExceptions.None)
            {
                // An unmasked #IA or #D still reports the relation ("unordered" for #IA), but nothing is popped.
                FpuSignal(stopping);
                pops = 0;
            }
            else
            {
                FpuSignal(exceptions);
            }
            relation = r.Relation;
        }
        var codes = new ComparisonResult(relation, FpuExceptions.None).ConditionCodes;
        if (eflags)
        {
            MaterializeFlags();
            _flags = (_flags & ~(Rflags.ZF | Rflags.PF | Rflags.CF | Rflags.OF | Rflags.SF | Rflags.AF))
                | (codes.C3 ? Rflags.ZF : 0) | (codes.C2 ? Rflags.PF : 0) | (codes.C0 ? Rflags.CF : 0);
            // The SDM has C1 cleared; the hardware leaves it alone unless the stack underflowed.
        }
        else
        {
            FpuSetConditionCodes(codes);
        }
        for (var i = 0; i < pops; i++) FpuPop();
        return Next(ref op);
    }

    /// <summary>FXAM: the class of ST(0) in C3, C2, C0 and its sign in C1, also for an empty register.</summary>
    private bool FpuExamine(ref DecodedOp op)
    {
        var value = St(0);
        FpuSetConditionCodes(FpuIsEmpty(0) ? Examine.Empty(value.Sign) : Examine.Classify(value));
        return Next(ref op);
    }
}
