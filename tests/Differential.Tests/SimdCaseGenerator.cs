using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// Generates SIMD cases for 32-bit protected or 64-bit mode: one to four MMX/SSE/SSE2/SSE3 instructions drawn from every legacy
/// encoding Iced knows for those extensions (bar the state, fence, cache and implicit-operand ones), over registers
/// filled with edge values (quiet and signalling NaNs, infinities, denormals, both zeros, integer boundaries) and
/// random ones, under every MXCSR rounding mode with DAZ and FTZ on and off, exceptions masked.
/// </summary>
public sealed partial class SimdCaseGenerator(int seed, bool long64 = false)
{
    private readonly Random _random = new(seed);

    /// <summary>Encodings the generator leaves out: MXCSR and FXSAVE state, fences and cache control, the implicit-rDI stores.</summary>
    private static readonly Mnemonic[] Excluded =
    [
        Mnemonic.Ldmxcsr, Mnemonic.Stmxcsr, Mnemonic.Fxsave, Mnemonic.Fxrstor, Mnemonic.Fxsave64, Mnemonic.Fxrstor64,
        Mnemonic.Lfence, Mnemonic.Sfence, Mnemonic.Mfence, Mnemonic.Clflush, Mnemonic.Pause, Mnemonic.Maskmovq, Mnemonic.Maskmovdqu,
        Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Monitor, Mnemonic.Mwait, Mnemonic.Fisttp,
    ];

    public static readonly Code[] Pool32 = Enum.GetValues<Code>().Where(c => Eligible(c, false)).ToArray();

    /// <summary>The 64-bit mode pool adds the REX.W forms (MOVQ r64, CVTSI2SS r64, PEXTRW r64 ...).</summary>
    public static readonly Code[] Pool64 = Enum.GetValues<Code>().Where(c => Eligible(c, true)).ToArray();

    private Code[] Pool => long64 ? Pool64 : Pool32;

    private static bool Eligible(Code code, bool long64)
    {
        if (code == Code.INVALID || code.Encoding() != EncodingKind.Legacy) return false;
        var info = code.ToOpCode();
        if (!info.IsInstruction || !(long64 ? info.Mode64 : info.Mode32) || Excluded.Contains(code.Mnemonic())) return false;
        var features = code.CpuidFeatures();
        if (features.Length != 1 || features[0] is not (CpuidFeature.MMX or CpuidFeature.SSE or CpuidFeature.SSE2 or CpuidFeature.SSE3)) return false;
        for (var i = 0; i < info.OpCount; i++)
            if (info.GetOpKind(i) is not (OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm or OpCodeOperandKind.xmm_or_mem
                or OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem
                or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.mem
                or OpCodeOperandKind.imm8)
                && !(long64 && info.GetOpKind(i) is OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm or OpCodeOperandKind.r64_or_mem))
                return false;
        return info.OpCount > 0 || code == Code.Emms;
    }

    /// <summary>The general registers a case uses, in the record's order: EAX, ECX, EDX, EBX, and in 64-bit mode R8, R9, R10 too.</summary>
    public static int GprCount(bool long64) => long64 ? 7 : 4;

    private static readonly Register[] Gprs32 = [Register.EAX, Register.ECX, Register.EDX, Register.EBX, Register.R8D, Register.R9D, Register.R10D];

    private Register Gpr32() => Gprs32[_random.Next(GprCount(long64))];

    private Register Gpr64() => Gprs32[_random.Next(GprCount(long64))].GetFullRegister();

    private int VectorRegisters => long64 ? 16 : 8;

    public SimdCase Generate(int index, uint memoryAddress)
    {
        var image = new byte[512];
        BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)0x037F);
        // TOP and the tags vary so that the MMX transition shows; the x87 registers hold MMX-style values.
        BitConverter.TryWriteBytes(image.AsSpan(2), (ushort)(_random.Next(8) << 11));
        image[4] = (byte)(_random.Next(4) == 0 ? _random.Next(256) : 0xFF);
        var mxcsr = 0x1F80u | ((uint)_random.Next(4) << 13);
        if (_random.Next(3) == 0) mxcsr |= 0x40;
        if (_random.Next(3) == 0) mxcsr |= 0x8000;
        BitConverter.TryWriteBytes(image.AsSpan(24), mxcsr);
        BitConverter.TryWriteBytes(image.AsSpan(28), 0xFFFFu);
        for (var r = 0; r < 8; r++)
        {
            BitConverter.TryWriteBytes(image.AsSpan(32 + 16 * r), Integer64());
            BitConverter.TryWriteBytes(image.AsSpan(40 + 16 * r), (ushort)0xFFFF);
        }
        for (var r = 0; r < VectorRegisters; r++) FillVector(image.AsSpan(160 + 16 * r));
        var memory = new byte[64];
        for (var q = 0; q < 4; q++) FillVector(memory.AsSpan(16 * q));
        var registers = new ulong[GprCount(long64)];
        for (var i = 0; i < registers.Length; i++) registers[i] = long64 ? Integer64() : (uint)Integer64();
        var count = 1 + _random.Next(4);
        var instructions = new List<Instruction>();
        for (var i = 0; i < count; i++) instructions.Add(Pick(memoryAddress));
        var flags = 0x2u | ((uint)_random.Next(0x100) & 0xD5) | (_random.Next(2) == 0 ? 0x800u : 0);
        return new SimdCase { Index = index, Image = image, Registers = registers, Flags = flags, Memory = memory, Instructions = instructions, MemoryAddress = memoryAddress, Long64 = long64 };
    }

    private Instruction Pick(uint memoryAddress)
    {
        var code = Pool[_random.Next(Pool.Length)];
        var info = code.ToOpCode();
        var i = new Instruction { Code = code };
        // Memory operands are 16-byte aligned within the case's block, so the aligned forms never fault.
        var memory = new MemoryOperand(Register.None, Register.None, 1, memoryAddress + 16u * (uint)_random.Next(4), 4);
        for (var k = 0; k < info.OpCount; k++)
        {
            switch (info.GetOpKind(k))
            {
                case OpCodeOperandKind.xmm_reg or OpCodeOperandKind.xmm_rm:
                    SetRegister(ref i, k, Register.XMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm:
                    SetRegister(ref i, k, Register.MM0 + _random.Next(8));
                    break;
                case OpCodeOperandKind.r32_reg or OpCodeOperandKind.r32_rm:
                    SetRegister(ref i, k, Gpr32());
                    break;
                case OpCodeOperandKind.r64_reg or OpCodeOperandKind.r64_rm:
                    SetRegister(ref i, k, Gpr64());
                    break;
                case OpCodeOperandKind.r64_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Gpr64());
                    break;
                case OpCodeOperandKind.xmm_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Register.XMM0 + _random.Next(VectorRegisters));
                    break;
                case OpCodeOperandKind.mm_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Register.MM0 + _random.Next(8));
                    break;
                case OpCodeOperandKind.r32_or_mem:
                    if (_random.Next(4) == 0) SetMemory(ref i, k, memory);
                    else SetRegister(ref i, k, Gpr32());
                    break;
                case OpCodeOperandKind.mem:
                    SetMemory(ref i, k, memory);
                    break;
                case OpCodeOperandKind.imm8:
                    i.SetOpKind(k, OpKind.Immediate8);
                    i.Immediate8 = (byte)(_random.Next(3) == 0 ? _random.Next(256) : _random.Next(4) == 0 ? 60 + _random.Next(10) : _random.Next(18));
                    break;
            }
        }
        return i;
    }

    private static void SetRegister(ref Instruction i, int k, Register r)
    {
        i.SetOpKind(k, OpKind.Register);
        i.SetOpRegister(k, r);
    }

    private static void SetMemory(ref Instruction i, int k, MemoryOperand m)
    {
        i.SetOpKind(k, OpKind.Memory);
        i.MemoryDisplacement64 = (ulong)m.Displacement;
        i.MemoryDisplSize = 4;
        i.MemoryBase = Register.None;
        i.MemoryIndex = Register.None;
        i.MemoryIndexScale = 1;
    }

    /// <summary>128 bits as four binary32 or two binary64 lanes, or integer lanes.</summary>
    private void FillVector(Span<byte> v)
    {
        switch (_random.Next(3))
        {
            case 0:
                for (var l = 0; l < 4; l++) BitConverter.TryWriteBytes(v[(4 * l)..], Single());
                break;
            case 1:
                for (var l = 0; l < 2; l++) BitConverter.TryWriteBytes(v[(8 * l)..], Double());
                break;
            default:
                for (var l = 0; l < 2; l++) BitConverter.TryWriteBytes(v[(8 * l)..], Integer64());
                break;
        }
    }

    private uint Single()
    {
        var sign = _random.Next(2) == 0 ? 0u : 0x8000_0000u;
        var fraction = (uint)_random.Next(1 << 23);
        return _random.Next(16) switch
        {
            0 => sign,
            1 => sign | 0x7F80_0000,
            2 => sign | 0x7FC0_0000 | (fraction & 0x3F_FFFF),
            3 => sign | 0x7F80_0000 | Math.Max(1u, fraction & 0x3F_FFFF),
            4 => sign | Math.Max(1u, fraction >> _random.Next(23)),
            5 => sign | 0x0080_0000u | (uint)_random.Next(4),
            6 => sign | (0x7F7F_FFFFu - (uint)_random.Next(4)),
            7 => BitConverter.SingleToUInt32Bits(_random.Next(-3000, 3000) / 4f) | sign,
            8 => BitConverter.SingleToUInt32Bits(MathF.ScaleB(1, 31) + _random.Next(-2, 2) * 128),
            9 => sign | ((uint)_random.Next(1, 0x30) << 23) | fraction,
            10 => sign | ((uint)_random.Next(0xD0, 0xFF) << 23) | fraction,
            _ => sign | ((uint)_random.Next(0x70, 0x90) << 23) | fraction,
        };
    }

    private ulong Double()
    {
        var sign = _random.Next(2) == 0 ? 0UL : 1UL << 63;
        var fraction = (ulong)_random.NextInt64(1L << 52);
        return _random.Next(16) switch
        {
            0 => sign,
            1 => sign | 0x7FF0_0000_0000_0000,
            2 => sign | 0x7FF8_0000_0000_0000 | (fraction & 0x7_FFFF_FFFF_FFFF),
            3 => sign | 0x7FF0_0000_0000_0000 | Math.Max(1UL, fraction & 0x7_FFFF_FFFF_FFFF),
            4 => sign | Math.Max(1UL, fraction >> _random.Next(52)),
            5 => sign | 0x0010_0000_0000_0000UL | (uint)_random.Next(4),
            6 => sign | (0x7FEF_FFFF_FFFF_FFFFUL - (ulong)_random.Next(4)),
            7 => BitConverter.DoubleToUInt64Bits(_random.Next(-3000, 3000) / 4.0) | sign,
            8 => BitConverter.DoubleToUInt64Bits(Math.ScaleB(1, 31) + _random.Next(-3, 3) * 0.5) | sign,
            // Around the single-precision range, for CVTSD2SS/CVTPD2PS overflow and underflow.
            9 => sign | ((ulong)_random.Next(0x360, 0x3A0) << 52) | fraction,
            10 => sign | ((ulong)_random.Next(0x460, 0x480) << 52) | fraction,
            _ => sign | ((ulong)_random.Next(0x3C0, 0x440) << 52) | fraction,
        };
    }

    private ulong Integer64() => _random.Next(6) switch
    {
        0 => 0,
        1 => ulong.MaxValue,
        2 => 0x8000_8000_8000_8000UL >> _random.Next(2) * 8,
        3 => 0x7F7F_7F7F_7FFF_7FFFUL,
        _ => (ulong)_random.NextInt64() ^ ((ulong)_random.Next(2) << 63),
    };
}
