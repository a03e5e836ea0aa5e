using Sim.Cpu.X87;

namespace Sim.Cpu;

/// <summary>
/// The x87 load-constant instructions (SDM vol. 1, 8.3.8): FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ. The
/// irrational constants are held with more than 64 bits and rounded by RC, without #P; C1 is cleared.
/// </summary>
public sealed unsafe partial class Processor
{
    /// <summary>Each constant's sign and exponent, its significand truncated to 64 bits, and whether round to nearest goes up.</summary>
    private static readonly (ushort SignExponent, ulong Truncated, bool NearestUp)[] FpuConstants =
    [
        (0x3FFF, 0x8000_0000_0000_0000, false),
        (0x4000, 0xD49A_784B_CD1B_8AFE, false),
        (0x3FFF, 0xB8AA_3B29_5C17_F0BB, true),
        (0x4000, 0xC90F_DAA2_2168_C234, true),
        (0x3FFD, 0x9A20_9A84_FBCF_F798, true),
        (0x3FFE, 0xB172_17F7_D1CF_79AB, true),
        (0x0000, 0, false),
    ];

    private bool LoadConstant(ref DecodedOp op)
    {
        if (FpuPushOverflows) return FpuStackOverflow(ref op);
        var (signExponent, truncated, nearestUp) = FpuConstants[op.R];
        var exact = op.R is 0 or 6;
        var up = !exact && FpuCw.RoundingControl switch
        {
            RoundingControl.Nearest => nearestUp,
            RoundingControl.Up => true,
            _ => false,
        };
        FpuReport(FpuExceptions.None, false);
        FpuPush(new ExtendedReal(signExponent, up ? truncated + 1 : truncated));
        return Next(ref op);
    }
}
