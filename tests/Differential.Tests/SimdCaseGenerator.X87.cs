using System.Text.RegularExpressions;
using Iced.Intel;

namespace Sim.Differential.Tests;

/// <summary>
/// x87 cases: the FXRSTOR image holds extended-precision values of every class (both zeros, denormals and pseudo-denormals,
/// the unsupported unnormals, pseudo-infinities and pseudo-NaNs, infinities, quiet and signalling NaNs, the indefinite,
/// normals near the limits and around the integer-conversion bounds), a random TOP and tags (empty registers underflow,
/// full ones overflow) and a random FCW (precision control 24/53/64 bits, every rounding mode, exceptions masked or not);
/// one to four x87 instructions (and WAIT) follow, from every documented encoding Iced knows bar the environment and state ones.
/// An unmasked exception sets FSW.ES, and with CR0.NE = 1 the next waiting x87 instruction raises #MF, which the guest
/// (built with <c>faults: true</c>) records in place of R8.
/// </summary>
public sealed partial class SimdCaseGenerator
{
    /// <summary>The environment and state images hold FIP, FDP and FOP, which QEMU 7.2 does not keep; the 8087/287-only no-ops.</summary>
    private static readonly Mnemonic[] X87Excluded =
    [
        Mnemonic.Fldenv, Mnemonic.Fnstenv, Mnemonic.Fstenv, Mnemonic.Frstor, Mnemonic.Fnsave, Mnemonic.Fsave,
        Mnemonic.Fxsave, Mnemonic.Fxrstor, Mnemonic.Fxsave64, Mnemonic.Fxrstor64,
        Mnemonic.Fneni, Mnemonic.Feni, Mnemonic.Fndisi, Mnemonic.Fdisi, Mnemonic.Fnsetpm, Mnemonic.Fsetpm, Mnemonic.Frstpm,
    ];

    /// <summary>The undocumented aliases (Iced names them by their opcode bytes, <c>Fstp_sti_DFD0</c>) are left out.</summary>
    private static readonly Regex AliasName = new("_D[89A-F][0-9A-F]{2}$");

    public static readonly Code[] X87Pool32 = Enum.GetValues<Code>().Where(c => X87Eligible(c, false)).ToArray();
    public static readonly Code[] X87Pool64 = Enum.GetValues<Code>().Where(c => X87Eligible(c, true)).ToArray();

    private static bool X87Eligible(Code code, bool long64)
    {
        // WAIT takes a pending unmasked exception as #MF, as every waiting x87 instruction does.
        if (code == Code.Wait) return true;
        if (code == Code.INVALID || code.Encoding() != EncodingKind.Legacy) return false;
        var info = code.ToOpCode();
        if (!info.IsInstruction || !(long64 ? info.Mode64 : info.Mode32) || X87Excluded.Contains(code.Mnemonic())) return false;
        if (AliasName.IsMatch(code.ToString())) return false;
        var features = code.CpuidFeatures();
        // FNSTSW AX came with the 287, FUCOM, FSIN … with the 387, FCMOVcc and FCOMI with the P6 (CMOV), FISTTP with SSE3.
        if (!features.Any(f => f is CpuidFeature.FPU or CpuidFeature.FPU287 or CpuidFeature.FPU387)) return false;
        if (features.Any(f => f is not (CpuidFeature.FPU or CpuidFeature.FPU287 or CpuidFeature.FPU387 or CpuidFeature.CMOV or CpuidFeature.SSE3))) return false;
        if (features.Contains(CpuidFeature.SSE3) && code.Mnemonic() != Mnemonic.Fisttp) return false;
        for (var i = 0; i < info.OpCount; i++)
            if (info.GetOpKind(i) is not (OpCodeOperandKind.st0 or OpCodeOperandKind.sti_opcode or OpCodeOperandKind.mem or OpCodeOperandKind.ax))
                return false;
        return true;
    }

    /// <summary>An x87 case (see the type's summary); EAX, ECX, EDX and EBX are its general registers in either mode.</summary>
    public SimdCase GenerateX87(int index, uint memoryAddress)
    {
        var image = new byte[512];
        var masks = _random.Next(3) switch { 0 => _random.Next(0x40), 1 => 0x3F & ~(1 << _random.Next(6)), _ => 0x3F };
        var precision = new[] { 0, 2, 3, 3 }[_random.Next(4)];
        var fcw = 0x40 | masks | (precision << 8) | (_random.Next(4) << 10);
        var top = _random.Next(8);
        // Sticky flags only where masked, so that the image itself has no pending exception (ES = 0).
        var fsw = (top << 11) | (_random.Next(16) is var c ? ((c & 7) << 8) | ((c & 8) << 11) : 0)
            | (_random.Next(3) == 0 ? _random.Next(0x40) & masks : 0);
        BitConverter.TryWriteBytes(image.AsSpan(0), (ushort)fcw);
        BitConverter.TryWriteBytes(image.AsSpan(2), (ushort)fsw);
        image[4] = (byte)(_random.Next(5) switch { 0 => 0xFF, 1 => 0, _ => _random.Next(256) });
        BitConverter.TryWriteBytes(image.AsSpan(24), 0x1F80u);
        BitConverter.TryWriteBytes(image.AsSpan(28), 0xFFFFu);
        for (var r = 0; r < 8; r++)
        {
            var (significand, exponent) = Extended();
            BitConverter.TryWriteBytes(image.AsSpan(32 + 16 * r), significand);
            BitConverter.TryWriteBytes(image.AsSpan(40 + 16 * r), exponent);
        }
        var memory = new byte[64];
        for (var q = 0; q < 4; q++) FillX87Memory(memory.AsSpan(16 * q, 16));
        var registers = new ulong[4];
        for (var i = 0; i < registers.Length; i++) registers[i] = long64 ? Integer64() : (uint)Integer64();
        var count = 1 + _random.Next(4);
        var pool = long64 ? X87Pool64 : X87Pool32;
        var instructions = new List<Instruction>();
        for (var i = 0; i < count; i++) instructions.Add(PickX87(pool[_random.Next(pool.Length)], memoryAddress));
        var flags = 0x2u | ((uint)_random.Next(0x100) & 0xD5) | (_random.Next(2) == 0 ? 0x800u : 0);
        return new SimdCase { Index = index, Image = image, Registers = registers, Flags = flags, Memory = memory, Instructions = instructions, MemoryAddress = memoryAddress, Long64 = long64, X87 = true };
    }

    private Instruction PickX87(Code code, uint memoryAddress)
    {
        var info = code.ToOpCode();
        var i = new Instruction { Code = code };
        // Every memory operand (at most ten bytes) fits its 16-byte slot of the block.
        var memory = new MemoryOperand(Register.None, Register.None, 1, memoryAddress + 16u * (uint)_random.Next(4), 4);
        for (var k = 0; k < info.OpCount; k++)
        {
            switch (info.GetOpKind(k))
            {
                case OpCodeOperandKind.st0: SetRegister(ref i, k, Register.ST0); break;
                case OpCodeOperandKind.sti_opcode: SetRegister(ref i, k, Register.ST0 + _random.Next(8)); break;
                case OpCodeOperandKind.ax: SetRegister(ref i, k, Register.AX); break;
                case OpCodeOperandKind.mem: SetMemory(ref i, k, memory); break;
            }
        }
        return i;
    }

    /// <summary>A 16-byte slot of the memory block: an extended value, binary64 or binary32 values, integers at their bounds, or packed BCD.</summary>
    private void FillX87Memory(Span<byte> slot)
    {
        switch (_random.Next(6))
        {
            case 0:
                var (significand, exponent) = Extended();
                BitConverter.TryWriteBytes(slot, significand);
                BitConverter.TryWriteBytes(slot[8..], exponent);
                break;
            case 1:
                BitConverter.TryWriteBytes(slot, Double());
                BitConverter.TryWriteBytes(slot[8..], Double());
                break;
            case 2:
                for (var l = 0; l < 4; l++) BitConverter.TryWriteBytes(slot[(4 * l)..], Single());
                break;
            case 3:
                for (var l = 0; l < 2; l++)
                    BitConverter.TryWriteBytes(slot[(8 * l)..], _random.Next(4) switch
                    {
                        0 => (ulong)(short)_random.Next(-1000, 1000),
                        1 => 0x8000UL << (16 * _random.Next(4)),
                        2 => (ulong)_random.Next(-2, 2) + (0x7FFFUL << (16 * _random.Next(4))),
                        _ => Integer64(),
                    });
                break;
            case 4:
                // Packed BCD: nine bytes of digits (some invalid ones) and a sign byte.
                for (var b = 0; b < 9; b++) slot[b] = (byte)(_random.Next(12) == 0 ? _random.Next(256) : _random.Next(10) * 16 + _random.Next(10));
                if (_random.Next(3) == 0) slot[_random.Next(9)..9].Clear();
                slot[9] = (byte)(_random.Next(2) * 0x80 | (_random.Next(10) == 0 ? _random.Next(0x80) : 0));
                break;
            default:
                _random.NextBytes(slot);
                break;
        }
    }

    /// <summary>An extended-precision value (significand, sign and exponent) of any class, the unsupported encodings included.</summary>
    private (ulong Significand, ushort Exponent) Extended()
    {
        var sign = _random.Next(2) == 0 ? 0 : 0x8000;
        var random = (ulong)_random.NextInt64() ^ ((ulong)_random.Next(2) << 63);
        const ulong integer = 1UL << 63;
        (ulong, int) value = _random.Next(20) switch
        {
            0 => (0, 0),
            1 => (Math.Max(1, (random & ~integer) >> _random.Next(63)), 0),
            2 => (integer | random, 0),
            3 => ((random & ~integer) >> _random.Next(63), _random.Next(1, 0x7FFF)),
            4 => (0, 0x7FFF),
            5 => (Math.Max(1, random & ~integer), 0x7FFF),
            6 => (integer, 0x7FFF),
            7 => (0xC000_0000_0000_0000 | (_random.Next(2) == 0 ? 0 : random), 0x7FFF),
            8 => (integer | Math.Max(1, random & 0x3FFF_FFFF_FFFF_FFFF), 0x7FFF),
            9 => (integer | random, 0x7FFE - _random.Next(3)),
            10 => (integer | random, 1 + _random.Next(3)),
            11 or 12 => FromDouble(_random.Next(-3000, 3000) / 4.0),
            13 => FromDouble(BitConverter.UInt64BitsToDouble(Double())),
            14 => (integer | random >> _random.Next(64), 0x3FFF + _random.Next(-70, 70)),
            15 => (integer | (_random.Next(2) == 0 ? (ulong)_random.Next(4) : random), 0x401D + 16 * _random.Next(4) + _random.Next(-1, 2)),
            16 => (integer | (random & 0xFFFF_FF00_0000_0000), 0x3F80 + _random.Next(0x100)),
            _ => (integer | random, 0x3FFF + _random.Next(-20, 20)),
        };
        if (_random.Next(40) == 0) return (0xC000_0000_0000_0000, 0xFFFF);
        return (value.Item1, (ushort)(sign | value.Item2));
    }

    private static (ulong, int) FromDouble(double d)
    {
        var bits = BitConverter.DoubleToUInt64Bits(Math.Abs(d));
        var e = (int)(bits >> 52);
        var f = bits & 0xF_FFFF_FFFF_FFFF;
        if (e == 0x7FF) return (1UL << 63 | f << 11, 0x7FFF);
        if (e == 0)
        {
            if (f == 0) return (0, 0);
            var shift = System.Numerics.BitOperations.LeadingZeroCount(f);
            return (f << shift, 0x3FFF - 1022 - (shift - 11));
        }
        return (1UL << 63 | f << 11, e - 1023 + 0x3FFF);
    }
}
