using Iced.Intel;

namespace Sim.Fuzz;

/// <summary>
/// Random machine code for one bitness: raw random bytes, valid instructions that Iced decodes out
/// of random bytes, and system instructions with random operands (control registers, MSRs,
/// descriptor tables, segment loads, far transfers, software interrupts, port I/O, VMX and SVM).
/// </summary>
public static class RandomCode
{
    private static readonly byte[][] SystemOpcodes =
    [
        [0x0F, 0x00], [0x0F, 0x01], [0x0F, 0x02], [0x0F, 0x03], [0x0F, 0x20], [0x0F, 0x21], [0x0F, 0x22], [0x0F, 0x23],
        [0x0F, 0x30], [0x0F, 0x32], [0x0F, 0x31], [0x0F, 0x33], [0x0F, 0x05], [0x0F, 0x07], [0x0F, 0x34], [0x0F, 0x35],
        [0x0F, 0xA2], [0xCD], [0xCC], [0xCE], [0xCF], [0x48, 0xCF], [0xEA], [0x9A], [0xFF], [0x8E], [0x8C],
        [0x0F, 0xB2], [0x0F, 0xB4], [0x0F, 0xB5], [0xC4], [0xC5], [0x0F, 0xC7], [0x0F, 0x78], [0x0F, 0x79],
        [0x66, 0x0F, 0x38, 0x80], [0x66, 0x0F, 0x38, 0x81], [0xF4], [0xFA], [0xFB], [0xE4], [0xE5], [0xE6], [0xE7],
        [0xEC], [0xED], [0xEE], [0xEF], [0xF3, 0x6C], [0xF3, 0x6D], [0xF3, 0x6E], [0xF3, 0x6F], [0x0F, 0x0B],
        [0x0F, 0x06], [0x0F, 0x08], [0x0F, 0x09], [0x9D], [0x17], [0x0F, 0xA1], [0x0F, 0xA9], [0x63], [0x0F, 0xAE],
        [0x62], [0xF1], [0xCA], [0xCB], [0xC2], [0xC3], [0xC8], [0xC9], [0x0F, 0x01, 0xD8], [0x0F, 0x01, 0xD9],
        [0x0F, 0x01, 0xDA], [0x0F, 0x01, 0xDB], [0x0F, 0x01, 0xDC], [0x0F, 0x01, 0xDD], [0x0F, 0x01, 0xDE],
        [0x0F, 0x01, 0xDF], [0x0F, 0x01, 0xC1], [0x0F, 0x01, 0xC2], [0x0F, 0x01, 0xC3], [0x0F, 0x01, 0xC4],
        [0x0F, 0x01, 0xF8], [0x0F, 0x01, 0xF9], [0x0F, 0x01, 0xD0], [0x0F, 0x01, 0xD1], [0x0F, 0x01, 0xC8],
        [0x0F, 0x01, 0xC9], [0xF3, 0xA4], [0xF3, 0xA5], [0xF3, 0xAA], [0xF3, 0xAB], [0xF3, 0xA6], [0xF2, 0xAE],
        [0xD8], [0xD9], [0xDB], [0xDD], [0xDF], [0x0F, 0xAA], [0x0F, 0x37], [0xF0], [0x0F, 0x0D], [0x0F, 0x18],
        [0x0F, 0xC8], [0x0F, 0xFF], [0x0F, 0xB9], [0x8F], [0xD6], [0x60], [0x61], [0x27], [0xD4], [0xD5], [0xF6], [0xF7],
    ];

    private static readonly uint[] Msrs =
    [
        0x10, 0x1B, 0x3A, 0x174, 0x175, 0x176, 0x1D9, 0x277, 0x2FF, 0x200, 0x250, 0x480, 0x48B, 0x6E0,
        0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101, 0xC0000102, 0xC0000103,
        0xC0010114, 0xC0010117, 0xC0010115, 0x3B, 0x8B, 0xFE, 0x179, 0x17A, 0x1A0, 0x800, 0x80F, 0x830,
    ];

    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 0x0000_7FFF_FFFF_FFFF, 0x0000_8000_0000_0000, 0xFFFF_8000_0000_0000, 0x8000_0000_0000_0000,
        0xFFFF_FFFF_FFFF_FFFF, 0xFEE0_0000, 0xFEC0_0000, 0xFFFF_FFF0, 0x1000, 0xFFF, 0x20000, 0x60000, 0x8000_0000_0000_0001,
    ];

    /// <summary>About <paramref name="length"/> bytes of random code for <paramref name="bitness"/>-bit execution.</summary>
    public static byte[] Generate(Random rng, int bitness, int length)
    {
        var code = new List<byte>(length + 32);
        while (code.Count < length)
        {
            switch (rng.Next(10))
            {
                case 0 or 1:
                    for (var n = rng.Next(1, 9); n > 0; n--) code.Add((byte)rng.Next(256));
                    break;
                case 2 or 3 or 4 or 5:
                    AddDecoded(rng, bitness, code);
                    break;
                case 6:
                    code.AddRange(SystemOpcodes[rng.Next(SystemOpcodes.Length)]);
                    for (var n = rng.Next(1, 7); n > 0; n--) code.Add(RandomModRmOrImmediate(rng));
                    break;
                case 7:
                    AddMsrAccess(rng, bitness, code);
                    break;
                case 8:
                    AddControlRegisterWrite(rng, bitness, code);
                    break;
                default:
                    AddSegmentLoad(rng, bitness, code);
                    break;
            }
        }
        return code.ToArray();
    }

    /// <summary>A value that is interesting for an operand more often than a uniform one would be.</summary>
    public static ulong Value(Random rng) => rng.Next(4) switch
    {
        0 => Interesting[rng.Next(Interesting.Length)],
        1 => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40),
        2 => 1UL << rng.Next(64),
        _ => (ulong)rng.Next(0x10000) << (rng.Next(4) * 8),
    };

    private static byte RandomModRmOrImmediate(Random rng) => rng.Next(3) == 0 ? (byte)(0xC0 | rng.Next(64)) : (byte)rng.Next(256);

    private static void AddDecoded(Random rng, int bitness, List<byte> code)
    {
        var bytes = new byte[16];
        for (var attempt = 0; attempt < 4; attempt++)
        {
            rng.NextBytes(bytes);
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(bytes));
            decoder.Decode(out var instruction);
            if (instruction.Code == Code.INVALID) continue;
            for (var i = 0; i < instruction.Length; i++) code.Add(bytes[i]);
            return;
        }
    }

    /// <summary>MOV r32, imm32 (with an operand-size prefix in 16-bit code); 64-bit code gets a REX.W MOV r64, imm64 for a wide value.</summary>
    private static void MoveImmediate(int bitness, List<byte> code, int register, ulong value)
    {
        if (bitness == 64 && value > uint.MaxValue)
        {
            code.Add(0x48);
            code.Add((byte)(0xB8 + register));
            for (var i = 0; i < 8; i++) code.Add((byte)(value >> (8 * i)));
            return;
        }
        if (bitness == 16) code.Add(0x66);
        code.Add((byte)(0xB8 + register));
        for (var i = 0; i < 4; i++) code.Add((byte)(value >> (8 * i)));
    }

    private static void AddMsrAccess(Random rng, int bitness, List<byte> code)
    {
        var msr = rng.Next(8) == 0 ? (uint)rng.Next() : Msrs[rng.Next(Msrs.Length)];
        MoveImmediate(bitness, code, 1, msr);
        var value = Value(rng);
        MoveImmediate(bitness, code, 0, (uint)value);
        MoveImmediate(bitness, code, 2, value >> 32);
        code.AddRange(rng.Next(3) == 0 ? [0x0F, 0x32] : [0x0F, 0x30]);
    }

    private static void AddControlRegisterWrite(Random rng, int bitness, List<byte> code)
    {
        var register = rng.Next(6) switch { 0 => 0, 1 => 3, 2 => 4, 3 => 8, 4 => 2, _ => rng.Next(16) };
        var value = Value(rng);
        if (rng.Next(2) == 0) value = register switch { 0 => 0x8000_0011UL ^ (1UL << rng.Next(32)), 4 => 1UL << rng.Next(24), _ => value };
        MoveImmediate(bitness, code, 0, value);
        if (register >= 8) code.Add(0x44);
        code.AddRange(rng.Next(2) == 0 ? [0x0F, 0x22] : [0x0F, 0x23]);
        code.Add((byte)(0xC0 | ((register & 7) << 3)));
    }

    private static void AddSegmentLoad(Random rng, int bitness, List<byte> code)
    {
        var selector = (ushort)(rng.Next(4) == 0 ? rng.Next(0x10000) : rng.Next(FuzzLayout.GdtEntries) * 8 | rng.Next(4) | (rng.Next(8) == 0 ? 4 : 0));
        if (bitness != 16) code.Add(0x66);
        code.Add(0xB8);
        code.Add((byte)selector);
        code.Add((byte)(selector >> 8));
        switch (rng.Next(4))
        {
            case 0:
                code.AddRange([0x0F, 0x00, (byte)(0xC0 | ((2 + rng.Next(4)) << 3))]);
                break;
            case 1 when bitness != 64:
                code.Add(0xEA);
                for (var i = 0; i < (bitness == 16 ? 2 : 4); i++) code.Add((byte)rng.Next(256));
                code.Add((byte)selector);
                code.Add((byte)(selector >> 8));
                break;
            default:
                code.AddRange([0x8E, (byte)(0xC0 | (rng.Next(6) << 3))]);
                break;
        }
    }
}
