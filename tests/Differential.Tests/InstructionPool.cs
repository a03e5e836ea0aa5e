using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>The encodings (Iced <see cref="Code"/>s) the generator draws generic instructions from, grouped by mnemonic.</summary>
public sealed class InstructionPool
{
    private static readonly string[] Conditions = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"];

    /// <summary>BMI1 and BMI2's VEX-encoded general-purpose instructions (declared before <see cref="Mnemonics"/>, which includes them).</summary>
    public static readonly HashSet<Mnemonic> VexGeneralPurpose =
    [
        Mnemonic.Andn, Mnemonic.Bextr, Mnemonic.Blsi, Mnemonic.Blsmsk, Mnemonic.Blsr, Mnemonic.Bzhi, Mnemonic.Mulx, Mnemonic.Pdep,
        Mnemonic.Pext, Mnemonic.Rorx, Mnemonic.Sarx, Mnemonic.Shlx, Mnemonic.Shrx,
    ];

    private static readonly HashSet<Mnemonic> Mnemonics = BuildMnemonics();

    /// <summary>BMI1, BMI2 and ADX: a memory operand is only read, the destination is a register.</summary>
    public static bool WritesOnlyRegisters(Mnemonic m) => VexGeneralPurpose.Contains(m) || m is Mnemonic.Adcx or Mnemonic.Adox;

    /// <summary>Mnemonics whose result and flags the SDM fully defines; used for loop bodies and skipped steps.</summary>
    public static readonly HashSet<Mnemonic> FullyDefined = [Mnemonic.Add, Mnemonic.Sub, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Neg, Mnemonic.Cmp, Mnemonic.Mov, Mnemonic.Not];

    public InstructionPool(int bitness)
    {
        var byMnemonic = new Dictionary<Mnemonic, List<Code>>();
        foreach (var code in Enum.GetValues<Code>())
        {
            if (code == Code.INVALID) continue;
            var op = code.ToOpCode();
            if (!op.IsInstruction || !Mnemonics.Contains(code.Mnemonic())) continue;
            // VEX only for the general-purpose BMI1/BMI2 instructions (Iced's KNC and XOP encodings share their mnemonics).
            if (op.Encoding != EncodingKind.Legacy && !(op.Encoding == EncodingKind.VEX && VexGeneralPurpose.Contains(code.Mnemonic()) && !code.ToString().Contains("KNC", StringComparison.Ordinal))) continue;
            // TEST F6/F7 /1 is an undocumented alias that hardware runs but QEMU 7.2 rejects with #UD.
            if (code is Code.Test_rm8_imm8_F6r1 or Code.Test_rm16_imm16_F7r1 or Code.Test_rm32_imm32_F7r1 or Code.Test_rm64_imm32_F7r1) continue;
            // QEMU 7.2 decodes MOVBE's operand size inverted in 16-bit code (66h selects 16 bits there).
            if (bitness == 16 && code.Mnemonic() == Mnemonic.Movbe) continue;
            if (bitness == 16 && !op.Mode16 || bitness == 32 && !op.Mode32 || bitness == 64 && !op.Mode64) continue;
            var supported = true;
            for (var i = 0; i < op.OpCount; i++)
                supported &= IsSupported(op.GetOpKind(i));
            if (!supported) continue;
            if (!byMnemonic.TryGetValue(code.Mnemonic(), out var list)) byMnemonic[code.Mnemonic()] = list = [];
            list.Add(code);
        }
        ByMnemonic = byMnemonic;
        All = byMnemonic.Keys.OrderBy(m => m).ToArray();
    }

    public IReadOnlyDictionary<Mnemonic, List<Code>> ByMnemonic { get; }

    public Mnemonic[] All { get; }

    public static string[] ConditionNames => Conditions;

    private static bool IsSupported(OpCodeOperandKind kind) => kind is
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem
        or OpCodeOperandKind.mem
        or OpCodeOperandKind.r8_reg or OpCodeOperandKind.r8_opcode or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r16_opcode
        or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_opcode or OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_opcode
        or OpCodeOperandKind.r32_vvvv or OpCodeOperandKind.r64_vvvv
        or OpCodeOperandKind.imm8 or OpCodeOperandKind.imm8_const_1 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32
        or OpCodeOperandKind.imm8sex64 or OpCodeOperandKind.imm16 or OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64
        or OpCodeOperandKind.imm64
        or OpCodeOperandKind.al or OpCodeOperandKind.ax or OpCodeOperandKind.eax or OpCodeOperandKind.rax
        or OpCodeOperandKind.cl or OpCodeOperandKind.dx;

    private static HashSet<Mnemonic> BuildMnemonics()
    {
        var set = new HashSet<Mnemonic>
        {
            Mnemonic.Add, Mnemonic.Or, Mnemonic.Adc, Mnemonic.Sbb, Mnemonic.And, Mnemonic.Sub, Mnemonic.Xor, Mnemonic.Cmp, Mnemonic.Test,
            Mnemonic.Inc, Mnemonic.Dec, Mnemonic.Not, Mnemonic.Neg,
            Mnemonic.Rol, Mnemonic.Ror, Mnemonic.Rcl, Mnemonic.Rcr, Mnemonic.Shl, Mnemonic.Sal, Mnemonic.Shr, Mnemonic.Sar,
            Mnemonic.Shld, Mnemonic.Shrd,
            Mnemonic.Mul, Mnemonic.Imul, Mnemonic.Div, Mnemonic.Idiv,
            Mnemonic.Bt, Mnemonic.Bts, Mnemonic.Btr, Mnemonic.Btc, Mnemonic.Bsf, Mnemonic.Bsr,
            Mnemonic.Popcnt, Mnemonic.Lzcnt, Mnemonic.Tzcnt, Mnemonic.Bswap, Mnemonic.Movbe, Mnemonic.Adcx, Mnemonic.Adox,
            Mnemonic.Movzx, Mnemonic.Movsx, Mnemonic.Movsxd, Mnemonic.Mov,
            Mnemonic.Cbw, Mnemonic.Cwde, Mnemonic.Cdqe, Mnemonic.Cwd, Mnemonic.Cdq, Mnemonic.Cqo,
            Mnemonic.Xchg, Mnemonic.Xadd, Mnemonic.Cmpxchg, Mnemonic.Cmpxchg8b, Mnemonic.Cmpxchg16b,
            Mnemonic.Lea, Mnemonic.Push, Mnemonic.Pop, Mnemonic.Pusha, Mnemonic.Pushad, Mnemonic.Popa, Mnemonic.Popad,
            Mnemonic.Pushf, Mnemonic.Pushfd, Mnemonic.Pushfq,
            Mnemonic.Lahf, Mnemonic.Sahf, Mnemonic.Clc, Mnemonic.Stc, Mnemonic.Cmc, Mnemonic.Cld, Mnemonic.Std,
            Mnemonic.Daa, Mnemonic.Das, Mnemonic.Aaa, Mnemonic.Aas, Mnemonic.Aam, Mnemonic.Aad,
            Mnemonic.Bound, Mnemonic.Into, Mnemonic.Ud2,
        };
        set.UnionWith(VexGeneralPurpose);
        foreach (var c in Conditions)
        {
            set.Add(Enum.Parse<Mnemonic>("Set" + c, true));
            set.Add(Enum.Parse<Mnemonic>("Cmov" + c, true));
        }
        return set;
    }
}
