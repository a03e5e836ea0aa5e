using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// AVX cases: one to four VEX-encoded instructions, VEX.128 and VEX.256, drawn from the VEX forms of the generator's
/// MMX-free SSE/SSE2/SSE3 mnemonics (AVX2's 256-bit integer forms included) and AVX's own data-rearrangement,
/// masked-move and test instructions, over YMM registers whose upper halves are filled like the lower ones.
/// </summary>
public sealed partial class SimdCaseGenerator
{
    /// <summary>AVX's instructions that have no legacy form.</summary>
    private static readonly Mnemonic[] AvxOwn =
    [
        Mnemonic.Vbroadcastss, Mnemonic.Vbroadcastsd, Mnemonic.Vbroadcastf128, Mnemonic.Vinsertf128, Mnemonic.Vextractf128,
        Mnemonic.Vperm2f128, Mnemonic.Vpermilps, Mnemonic.Vpermilpd, Mnemonic.Vmaskmovps, Mnemonic.Vmaskmovpd,
        Mnemonic.Vtestps, Mnemonic.Vtestpd, Mnemonic.Vzeroupper, Mnemonic.Vzeroall,
    ];

    // Lazy: the static initializers of a partial class are not ordered across its files (Pool64 is in the other one).
    private static HashSet<string>? _legacyMnemonics;
    private static Code[]? _avxPool32, _avxPool64;

    private static HashSet<string> LegacyMnemonics => _legacyMnemonics ??= Pool64.Select(c => c.Mnemonic().ToString().ToLowerInvariant()).ToHashSet();

    public static Code[] AvxPool32 => _avxPool32 ??= Enum.GetValues<Code>().Where(c => AvxEligible(c, false)).ToArray();

    public static Code[] AvxPool64 => _avxPool64 ??= Enum.GetValues<Code>().Where(c => AvxEligible(c, true)).ToArray();

    private static bool AvxEligible(Code code, bool long64)
    {
        if (code == Code.INVALID || code.Encoding() != EncodingKind.VEX) return false;
        var info = code.ToOpCode();
        if (!info.IsInstruction || !(long64 ? info.Mode64 : info.Mode32)) return false;
        var features = code.CpuidFeatures();
        if (features.Length != 1 || features[0] is not (CpuidFeature.AVX or CpuidFeature.AVX2)) return false;
        var mnemonic = code.Mnemonic();
        var derived = LegacyMnemonics.Contains(mnemonic.ToString().ToLowerInvariant()[1..]);
        if (!(derived || (AvxOwn.Contains(mnemonic) && features[0] == CpuidFeature.AVX))) return false;
        // VPEXTRW r32/m16 (0F3A 15) is SSE4.1's PEXTRW form, not SSE2's.
        if (code is Code.VEX_Vpextrw_r32m16_xmm_imm8 or Code.VEX_Vpextrw_r64m16_xmm_imm8) return false;
        for (var i = 0; i < info.OpCount; i++)
            if (info.GetOpKind(i) is not (OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.xmm_vvvv
                or OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_or_mem or OpCodeOperandKind.ymm_vvvv
                or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.mem
                or OpCodeOperandKind.imm8)
                && !(long64 && info.GetOpKind(i) is OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm or OpCodeOperandKind.r64_or_mem))
                return false;
        return info.OpCount > 0 || mnemonic is Mnemonic.Vzeroupper or Mnemonic.Vzeroall;
    }

    /// <summary>A case as <see cref="Generate"/> makes it, with VEX instructions and the YMM upper halves.</summary>
    public SimdCase GenerateAvx(int index, uint memoryAddress)
    {
        var legacy = Generate(index, memoryAddress);
        var upper = new byte[256];
        for (var r = 0; r < VectorRegisters; r++)
        {
            // Often a copy of the lower half, so that lane-crossing and in-lane forms see related values.
            if (_random.Next(4) == 0) legacy.Image.AsSpan(160 + 16 * r, 16).CopyTo(upper.AsSpan(16 * r));
            else FillVector(upper.AsSpan(16 * r, 16));
        }
        var count = 1 + _random.Next(4);
        var instructions = new List<Instruction>();
        for (var i = 0; i < count; i++) instructions.Add(PickAvx(memoryAddress));
        return new SimdCase
        {
            Index = index, Image = legacy.Image, Registers = legacy.Registers, Flags = legacy.Flags, Memory = legacy.Memory,
            Instructions = instructions, MemoryAddress = memoryAddress, Long64 = long64, Upper = upper,
        };
    }

    private Instruction PickAvx(uint memoryAddress)
    {
        var pool = long64 ? AvxPool64 : AvxPool32;
        var code = pool[_random.Next(pool.Length)];
        var info = code.ToOpCode();
        var i = new Instruction { Code = code };
        // A 32-byte operand at 0 or 32 of the block (32-byte aligned), a smaller one at a multiple of 16.
        var wide = info.MemorySize.GetSize() >= 32;
        var memory = new MemoryOperand(Register.None, Register.None, 1, memoryAddress + (wide ? 32u * (uint)_random.Next(2) : 16u * (uint)_random.Next(4)), 4);
        for (var k = 0; k < info.OpCount; k++)
        {
            switch (info.GetOpKind(k))
            {
                case OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_vvvv:
                    SetRegister(ref i, k, Register.XMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_vvvv:
                    SetRegister(ref i, k, Register.YMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.xmm_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Register.XMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.ymm_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Register.YMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm:
                    SetRegister(ref i, k, Gpr32());
                    break;
                case OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm:
                    SetRegister(ref i, k, Gpr64());
                    break;
                case OpCodeOperandKind.r32_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Gpr32());
                    break;
                case OpCodeOperandKind.r64_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Gpr64());
                    break;
                case OpCodeOperandKind.mem:
                    SetMemory(ref i, k, memory);
                    break;
                case OpCodeOperandKind.imm8:
                    i.SetOpKind(k, OpKind.Immediate8);
                    i.Immediate8 = (byte)(_random.Next(3) == 0 ? _random.Next(256) : _random.Next(4) == 0 ? 60 + _random.Next(10) : _random.Next(32));
                    break;
            }
        }
        return i;
    }
}
