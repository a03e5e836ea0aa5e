using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// The one table of what the Intel SDM (Vol. 2, "Flags Affected" and "Operation" of each
/// instruction) leaves undefined. Count- and source-dependent rows need the operand value; when it
/// is not known, every possible value is returned and the caller keeps only what all agree on.
/// </summary>
public static class UndefinedBehaviour
{
    private const uint All = Eflags.Status;

    /// <param name="modified">EFLAGS bits Iced says the instruction writes.</param>
    /// <param name="count">The shift/rotate count before masking, or the BSF/BSR source; null when unknown.</param>
    public static IEnumerable<FlagOutcome> Outcomes(Instruction ins, uint modified, ulong? count)
    {
        var size = OperandBits(ins);
        switch (ins.Mnemonic)
        {
            // AND, OR, XOR, TEST: "The state of the AF flag is undefined."
            case Mnemonic.And or Mnemonic.Or or Mnemonic.Xor or Mnemonic.Test:
                yield return new(modified, Eflags.AF, false);
                yield break;
            // MUL, IMUL: "The SF, ZF, AF, and PF flags are undefined."
            case Mnemonic.Mul or Mnemonic.Imul:
                yield return new(modified, Eflags.SF | Eflags.ZF | Eflags.AF | Eflags.PF, false);
                yield break;
            // DIV, IDIV: "The CF, OF, SF, ZF, AF, and PF flags are undefined."
            case Mnemonic.Div or Mnemonic.Idiv:
                yield return new(modified, All, false);
                yield break;
            // BT, BTS, BTR, BTC: "The ZF flag is unaffected. The OF, SF, AF, and PF flags are undefined."
            case Mnemonic.Bt or Mnemonic.Bts or Mnemonic.Btr or Mnemonic.Btc:
                yield return new(modified & ~Eflags.ZF, Eflags.OF | Eflags.SF | Eflags.AF | Eflags.PF, false);
                yield break;
            // BSF, BSR: "The CF, OF, SF, AF, and PF flags are undefined"; "If the content of the source
            // operand is 0, the content of the destination operand is undefined."
            case Mnemonic.Bsf or Mnemonic.Bsr:
            {
                const uint undefined = Eflags.CF | Eflags.OF | Eflags.SF | Eflags.AF | Eflags.PF;
                if (count is null || (count.Value & Mask(size)) == 0) yield return new(modified | undefined | Eflags.ZF, undefined, true);
                if (count is null || (count.Value & Mask(size)) != 0) yield return new(modified | undefined | Eflags.ZF, undefined, false);
                yield break;
            }
            // LZCNT, TZCNT: "ZF and CF flags are modified ... The OF, SF, PF, and AF flags are undefined."
            case Mnemonic.Lzcnt or Mnemonic.Tzcnt:
                yield return new(modified, Eflags.OF | Eflags.SF | Eflags.PF | Eflags.AF, false);
                yield break;
            // ANDN: "The AF and PF flags are undefined." BLSI, BLSMSK, BLSR, BZHI: "The AF and PF flags are undefined."
            case Mnemonic.Andn or Mnemonic.Blsi or Mnemonic.Blsmsk or Mnemonic.Blsr or Mnemonic.Bzhi:
                yield return new(modified, Eflags.AF | Eflags.PF, false);
                yield break;
            // BEXTR: "ZF is updated based on the result. AF, SF, and PF are undefined. All other flags are cleared."
            case Mnemonic.Bextr:
                yield return new(modified, Eflags.AF | Eflags.SF | Eflags.PF, false);
                yield break;
            // DAA, DAS: "The OF flag is undefined."
            case Mnemonic.Daa or Mnemonic.Das:
                yield return new(modified, Eflags.OF, false);
                yield break;
            // AAA, AAS: "The OF, SF, ZF, and PF flags are undefined."
            case Mnemonic.Aaa or Mnemonic.Aas:
                yield return new(modified, Eflags.OF | Eflags.SF | Eflags.ZF | Eflags.PF, false);
                yield break;
            // AAM, AAD: "The OF, AF, and CF flags are undefined."
            case Mnemonic.Aam or Mnemonic.Aad:
                yield return new(modified, Eflags.OF | Eflags.AF | Eflags.CF, false);
                yield break;
            // BSWAP: "When the BSWAP instruction references a 16-bit register, the result is undefined."
            case Mnemonic.Bswap:
                yield return new(0, 0, size == 16);
                yield break;
            // SAL/SAR/SHL/SHR: count 0 affects no flag; "The OF flag is affected only on 1-bit shifts
            // ... otherwise it is undefined"; "For a non-zero count, the AF flag is undefined";
            // "For the SHL and SHR instructions, if the count is greater than or equal to the size
            // (in bits) of the destination operand, the CF flag is undefined."
            case Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar:
                foreach (var c in Counts(count, size))
                {
                    if (c == 0) { yield return new(0, 0, false); continue; }
                    var undefined = Eflags.AF | (c != 1 ? Eflags.OF : 0);
                    if (ins.Mnemonic != Mnemonic.Sar && c >= size) undefined |= Eflags.CF;
                    yield return new(All, undefined, false);
                }
                yield break;
            // ROL/ROR/RCL/RCR: "If the masked count is 0, the flags are not affected. If the masked
            // count is 1, then the OF flag is affected, otherwise (masked count is greater than 1)
            // the OF flag is undefined." Only CF and OF are written.
            case Mnemonic.Rol or Mnemonic.Ror or Mnemonic.Rcl or Mnemonic.Rcr:
                foreach (var c in Counts(count, size))
                    yield return c == 0 ? new(0, 0, false) : new(Eflags.CF | Eflags.OF, c != 1 ? Eflags.OF : 0, false);
                yield break;
            // SHLD/SHRD: count 0 affects nothing; "If the count is greater than the operand size,
            // the result is undefined" and the flags too; OF is defined only for 1-bit shifts; AF is
            // undefined for a non-zero count.
            case Mnemonic.Shld or Mnemonic.Shrd:
                foreach (var c in Counts(count, size))
                {
                    if (c == 0) yield return new(0, 0, false);
                    else if (c > size) yield return new(All, All, true);
                    else yield return new(All, Eflags.AF | (c != 1 ? Eflags.OF : 0), false);
                }
                yield break;
            default:
                yield return new(modified, 0, false);
                yield break;
        }
    }

    /// <summary>Instructions whose outcome depends on a count or source value.</summary>
    public static bool NeedsValue(Mnemonic m) => m is Mnemonic.Shl or Mnemonic.Sal or Mnemonic.Shr or Mnemonic.Sar
        or Mnemonic.Rol or Mnemonic.Ror or Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd
        or Mnemonic.Bsf or Mnemonic.Bsr;

    /// <summary>The masked counts (5 bits, 6 for 64-bit operands) the instruction may see.</summary>
    private static IEnumerable<int> Counts(ulong? count, int size)
    {
        var mask = size == 64 ? 0x3F : 0x1F;
        if (count is { } c) return [(int)c & mask];
        return Enumerable.Range(0, mask + 1);
    }

    private static ulong Mask(int size) => size == 64 ? ulong.MaxValue : (1UL << size) - 1;

    /// <summary>Size in bits of the first operand.</summary>
    public static int OperandBits(in Instruction ins)
    {
        if (ins.OpCount == 0) return 32;
        if (ins.GetOpKind(0) == OpKind.Register) return ins.GetOpRegister(0).GetSize() * 8;
        if (ins.GetOpKind(0) == OpKind.Memory) return ins.MemorySize.GetSize() * 8;
        return 32;
    }
}
