using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 transcendental instructions (SDM vol. 1, 8.3.10): FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1,
/// computed by <see cref="Transcendental"/>. An operand of FSIN, FCOS, FSINCOS or FPTAN of magnitude 2^63 or more is
/// left as it is with C2 set; otherwise, a stack fault included, C2 is cleared.
/// </summary>
public sealed unsafe partial class Processor
{
    private const ushort FswC2 = 1 << 10;

    private bool ExecuteX87Transcendental(ref DecodedOp op)
    {
        if (!FpuBegin(ref op)) return false;
        var cw = FpuCw;
        switch (op.Sub)
        {
            case X87Sub.Sine or X87Sub.Cosine or X87Sub.TwoToXMinus1:
            {
                if (FpuIsEmpty(0))
                {
                    // FSIN and FCOS clear C2 on a stack fault too, as the hardware does; F2XM1 leaves it.
                    if (op.Sub != X87Sub.TwoToXMinus1) _fpuStatus = (ushort)(_fpuStatus & ~FswC2);
                    return FpuUnderflowInto(ref op, 0, false);
                }
                var x = St(0);
                if (op.Sub != X87Sub.TwoToXMinus1 && FpuOperandOutOfRange(x)) return Next(ref op);
                var r = op.Sub switch
                {
                    X87Sub.Sine => Transcendental.Sine(x, cw),
                    X87Sub.Cosine => Transcendental.Cosine(x, cw),
                    _ => Transcendental.TwoToXMinus1(x, cw),
                };
                return FpuComplete(ref op, r, 0, false);
            }
            case X87Sub.SineCosine or X87Sub.PartialTangent:
            {
                if (FpuIsEmpty(0) || FpuPushOverflows)
                {
                    _fpuStatus = (ushort)(_fpuStatus & ~FswC2);
                    FpuStackFault(!FpuIsEmpty(0));
                    if (cw.IsMasked(FpuExceptions.Invalid))
                    {
                        FpuSetSt(0, ExtendedReal.RealIndefinite);
                        FpuPush(ExtendedReal.RealIndefinite);
                    }
                    return Next(ref op);
                }
                var x = St(0);
                if (FpuOperandOutOfRange(x)) return Next(ref op);
                FpuResult first, second;
                if (op.Sub == X87Sub.SineCosine)
                {
                    first = Transcendental.Sine(x, cw);
                    second = Transcendental.Cosine(x, cw);
                }
                else
                {
                    first = Transcendental.Tangent(x, cw);
                    second = new(ExtendedReal.One, FpuExceptions.None);
                }
                var exceptions = first.Exceptions | second.Exceptions;
                var stopping = FpuResult.StoppingExceptions(exceptions, cw);
                if (stopping != FpuExceptions.None)
                {
                    FpuReport(stopping, false);
                    return Next(ref op);
                }
                FpuReport(exceptions, op.Sub == X87Sub.SineCosine ? second.RoundedUp : first.RoundedUp);
                St(0) = first.Value;
                FpuPush(second.Value);
                return Next(ref op);
            }
            default:
            {
                if (FpuIsEmpty(0) || FpuIsEmpty(1)) return FpuUnderflowInto(ref op, 1, true);
                var x = St(0);
                var y = St(1);
                var r = op.Sub switch
                {
                    X87Sub.PartialArctangent => Transcendental.Arctangent(y, x, cw),
                    X87Sub.YLog2X => Transcendental.YLog2X(y, x, cw),
                    _ => Transcendental.YLog2XPlus1(y, x, cw),
                };
                return FpuComplete(ref op, r, 1, true);
            }
        }
    }

    /// <summary>Sets C2 for an operand FSIN, FCOS, FSINCOS and FPTAN cannot reduce, clears it otherwise.</summary>
    private bool FpuOperandOutOfRange(ExtendedReal x)
    {
        var outOfRange = Transcendental.OutOfRange(x);
        _fpuStatus = (ushort)(outOfRange ? _fpuStatus | FswC2 : _fpuStatus & ~FswC2);
        return outOfRange;
    }
}
