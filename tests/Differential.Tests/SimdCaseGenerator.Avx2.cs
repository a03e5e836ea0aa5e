using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// FMA3, F16C and AVX2-own cases: one to four of the VFMADD … VFMSUBADD forms, VCVTPH2PS/VCVTPS2PH, and AVX2's
/// permutes, inserts, extracts, blends, broadcasts, variable shifts, masked moves and gathers, VEX.128 and VEX.256.
/// A gather comes first in its case, its index register filled with indices that keep every element inside the case's
/// memory block and its three registers distinct, so that no case faults.
/// </summary>
public sealed partial class SimdCaseGenerator
{
    /// <summary>AVX2's instructions that are not a 256-bit form of an SSE-family instruction.</summary>
    private static readonly Mnemonic[] Avx2Own =
    [
        Mnemonic.Vpermd, Mnemonic.Vpermps, Mnemonic.Vpermq, Mnemonic.Vpermpd, Mnemonic.Vperm2i128, Mnemonic.Vinserti128,
        Mnemonic.Vextracti128, Mnemonic.Vpblendd, Mnemonic.Vpbroadcastb, Mnemonic.Vpbroadcastw, Mnemonic.Vpbroadcastd,
        Mnemonic.Vpbroadcastq, Mnemonic.Vbroadcasti128, Mnemonic.Vbroadcastss, Mnemonic.Vbroadcastsd, Mnemonic.Vpsllvd,
        Mnemonic.Vpsllvq, Mnemonic.Vpsrlvd, Mnemonic.Vpsrlvq, Mnemonic.Vpsravd, Mnemonic.Vpmaskmovd, Mnemonic.Vpmaskmovq,
        Mnemonic.Vgatherdps, Mnemonic.Vgatherdpd, Mnemonic.Vgatherqps, Mnemonic.Vgatherqpd,
        Mnemonic.Vpgatherdd, Mnemonic.Vpgatherdq, Mnemonic.Vpgatherqd, Mnemonic.Vpgatherqq,
    ];

    private static Code[]? _avx2Pool32, _avx2Pool64;

    public static Code[] Avx2Pool32 => _avx2Pool32 ??= Enum.GetValues<Code>().Where(c => Avx2Eligible(c, false)).ToArray();

    public static Code[] Avx2Pool64 => _avx2Pool64 ??= Enum.GetValues<Code>().Where(c => Avx2Eligible(c, true)).ToArray();

    private static bool IsVsib(OpCodeOperandKind kind) =>
        kind is OpCodeOperandKind.mem_vsib32x or OpCodeOperandKind.mem_vsib32y or OpCodeOperandKind.mem_vsib64x or OpCodeOperandKind.mem_vsib64y;

    private static bool Avx2Eligible(Code code, bool long64)
    {
        if (code == Code.INVALID || code.Encoding() != EncodingKind.VEX) return false;
        var info = code.ToOpCode();
        if (!info.IsInstruction || !(long64 ? info.Mode64 : info.Mode32)) return false;
        var features = code.CpuidFeatures();
        if (features.Length != 1) return false;
        var mnemonic = code.Mnemonic();
        var own = features[0] switch
        {
            CpuidFeature.FMA or CpuidFeature.F16C => true,
            CpuidFeature.AVX2 => Avx2Own.Contains(mnemonic),
            _ => false,
        };
        if (!own) return false;
        for (var i = 0; i < info.OpCount; i++)
            if (info.GetOpKind(i) is not (OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem or OpCodeOperandKind.xmm_vvvv
                or OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_rm or OpCodeOperandKind.ymm_or_mem or OpCodeOperandKind.ymm_vvvv
                or OpCodeOperandKind.mem or OpCodeOperandKind.imm8) && !IsVsib(info.GetOpKind(i)))
                return false;
        return true;
    }

    /// <summary>A case as <see cref="GenerateAvx"/> makes it, with instructions from <see cref="Avx2Pool32"/> (or 64).</summary>
    public SimdCase GenerateAvx2(int index, uint memoryAddress)
    {
        var c = GenerateAvx(index, memoryAddress);
        var pool = long64 ? Avx2Pool64 : Avx2Pool32;
        var count = 1 + _random.Next(4);
        var instructions = new List<Instruction>();
        for (var i = 0; i < count; i++)
        {
            var code = pool[_random.Next(pool.Length)];
            var info = code.ToOpCode();
            var vsib = Enumerable.Range(0, info.OpCount).Any(k => IsVsib(info.GetOpKind(k)));
            // Only a case's first instruction may gather: its index register is prepared in the case's state.
            if (vsib && i > 0) continue;
            instructions.Add(vsib ? Gather(code, c, memoryAddress) : PickAvx2(code, memoryAddress));
        }
        return new SimdCase
        {
            Index = c.Index, Image = c.Image, Registers = c.Registers, Flags = c.Flags, Memory = c.Memory,
            Instructions = instructions, MemoryAddress = memoryAddress, Long64 = long64, Upper = c.Upper,
        };
    }

    private Instruction PickAvx2(Code code, uint memoryAddress)
    {
        var info = code.ToOpCode();
        var i = new Instruction { Code = code };
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
                case OpCodeOperandKind.mem:
                    SetMemory(ref i, k, memory);
                    break;
                case OpCodeOperandKind.imm8:
                    i.SetOpKind(k, OpKind.Immediate8);
                    i.Immediate8 = (byte)_random.Next(256);
                    break;
            }
        }
        return i;
    }

    /// <summary>
    /// A gather over the case's memory block: [block + index × scale] with no base register (VSIB's disp32 form), the
    /// destination, index and mask distinct, and the index elements rewritten in the case's state to stay in the block.
    /// </summary>
    private Instruction Gather(Code code, SimdCase c, uint memoryAddress)
    {
        var info = code.ToOpCode();
        var i = new Instruction { Code = code };
        var registers = Enumerable.Range(0, VectorRegisters).OrderBy(_ => _random.Next()).Take(3).ToArray();
        var scale = 1 << _random.Next(4);
        var dataSize = info.MemorySize.GetElementSize();
        var vsibKind = Enumerable.Range(0, info.OpCount).Select(info.GetOpKind).First(IsVsib);
        var qwordIndex = vsibKind is OpCodeOperandKind.mem_vsib64x or OpCodeOperandKind.mem_vsib64y;
        var ymmIndex = vsibKind is OpCodeOperandKind.mem_vsib32y or OpCodeOperandKind.mem_vsib64y;
        var used = 0;
        for (var k = 0; k < info.OpCount; k++)
        {
            var kind = info.GetOpKind(k);
            if (IsVsib(kind))
            {
                i.SetOpKind(k, OpKind.Memory);
                i.MemoryBase = Register.None;
                i.MemoryIndex = (ymmIndex ? Register.YMM0 : Register.XMM0) + registers[2];
                i.MemoryIndexScale = scale;
                i.MemoryDisplacement64 = memoryAddress;
                i.MemoryDisplSize = 4;
            }
            else
            {
                var wide = kind is OpCodeOperandKind.ymm_reg or OpCodeOperandKind.ymm_vvvv;
                SetRegister(ref i, k, (wide ? Register.YMM0 : Register.XMM0) + registers[used++]);
            }
        }
        var limit = (64 - dataSize) / scale;
        var indexBytes = qwordIndex ? 8 : 4;
        for (var e = 0; e < 32 / indexBytes; e++)
        {
            var value = _random.Next(limit + 1);
            var bytes = qwordIndex ? BitConverter.GetBytes((long)value) : BitConverter.GetBytes(value);
            var offset = e * indexBytes;
            if (offset < 16) bytes.CopyTo(c.Image, 160 + 16 * registers[2] + offset);
            else bytes.CopyTo(c.Upper!, 16 * registers[2] + offset - 16);
        }
        return i;
    }
}
