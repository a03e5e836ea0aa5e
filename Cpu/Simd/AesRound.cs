using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sim.Cpu.Simd;

/// <summary>
/// The AES round primitives of AES-NI (SDM vol. 2, AESENC ... AESKEYGENASSIST; FIPS-197): the state is the 128-bit
/// operand with byte 4c + r in row r of column c. The host's AES instructions give exact results; the software path
/// (S-box tables and GF(2^8) arithmetic) serves hosts without them and is tested to match.
/// </summary>
internal static class AesRound
{
    private static readonly byte[] SBox = CreateSBox();
    private static readonly byte[] InverseSBox = CreateInverseSBox();

    /// <summary>Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.</summary>
    private static byte Multiply(byte a, byte b)
    {
        var r = 0;
        int x = a;
        for (var i = 0; i < 8; i++)
        {
            if ((b & (1 << i)) != 0) r ^= x;
            x <<= 1;
            if ((x & 0x100) != 0) x ^= 0x11B;
        }
        return (byte)r;
    }

    /// <summary>The S-box of FIPS-197 5.1.1: the multiplicative inverse followed by the affine transformation.</summary>
    private static byte[] CreateSBox()
    {
        var box = new byte[256];
        for (var i = 0; i < 256; i++)
        {
            byte inverse = 0;
            if (i != 0)
                for (var k = 1; k < 256; k++)
                    if (Multiply((byte)i, (byte)k) == 1)
                    {
                        inverse = (byte)k;
                        break;
                    }
            int s = inverse;
            var r = s;
            for (var k = 1; k <= 4; k++) r ^= ((s << k) | (s >> (8 - k))) & 0xFF;
            box[i] = (byte)(r ^ 0x63);
        }
        return box;
    }

    private static byte[] CreateInverseSBox()
    {
        var box = new byte[256];
        for (var i = 0; i < 256; i++) box[SBox[i]] = (byte)i;
        return box;
    }

    public static Vector128<byte> Encrypt(Vector128<byte> state, Vector128<byte> key) =>
        Aes.IsSupported ? Aes.Encrypt(state, key) : SoftwareEncrypt(state, key, last: false);

    public static Vector128<byte> EncryptLast(Vector128<byte> state, Vector128<byte> key) =>
        Aes.IsSupported ? Aes.EncryptLast(state, key) : SoftwareEncrypt(state, key, last: true);

    public static Vector128<byte> Decrypt(Vector128<byte> state, Vector128<byte> key) =>
        Aes.IsSupported ? Aes.Decrypt(state, key) : SoftwareDecrypt(state, key, last: false);

    public static Vector128<byte> DecryptLast(Vector128<byte> state, Vector128<byte> key) =>
        Aes.IsSupported ? Aes.DecryptLast(state, key) : SoftwareDecrypt(state, key, last: true);

    public static Vector128<byte> InverseMixColumns(Vector128<byte> state) =>
        Aes.IsSupported ? Aes.InverseMixColumns(state) : SoftwareInverseMixColumns(state);

    public static Vector128<byte> KeygenAssist(Vector128<byte> source, byte rcon) =>
        // The round constant is XORed after the rotation, so the host instruction with a zero constant serves every one.
        Aes.IsSupported ? Aes.KeygenAssist(source, 0) ^ Vector128.Create(0, rcon, 0, (uint)rcon).AsByte() : SoftwareKeygenAssist(source, rcon);

    /// <summary>AESENC: ShiftRows, SubBytes, MixColumns (not in the last round), then the round key added.</summary>
    public static Vector128<byte> SoftwareEncrypt(Vector128<byte> state, Vector128<byte> key, bool last)
    {
        Span<byte> s = stackalloc byte[16];
        for (var c = 0; c < 4; c++)
        for (var r = 0; r < 4; r++)
            s[4 * c + r] = SBox[state.GetElement(4 * ((c + r) & 3) + r)];
        if (!last) MixColumns(s, 2, 3, 1, 1);
        return Vector128.Create((ReadOnlySpan<byte>)s) ^ key;
    }

    /// <summary>AESDEC: InvShiftRows, InvSubBytes, InvMixColumns (not in the last round), then the round key added.</summary>
    public static Vector128<byte> SoftwareDecrypt(Vector128<byte> state, Vector128<byte> key, bool last)
    {
        Span<byte> s = stackalloc byte[16];
        for (var c = 0; c < 4; c++)
        for (var r = 0; r < 4; r++)
            s[4 * c + r] = InverseSBox[state.GetElement(4 * ((c - r) & 3) + r)];
        if (!last) MixColumns(s, 14, 11, 13, 9);
        return Vector128.Create((ReadOnlySpan<byte>)s) ^ key;
    }

    public static Vector128<byte> SoftwareInverseMixColumns(Vector128<byte> state)
    {
        Span<byte> s = stackalloc byte[16];
        state.CopyTo(s);
        MixColumns(s, 14, 11, 13, 9);
        return Vector128.Create((ReadOnlySpan<byte>)s);
    }

    /// <summary>AESKEYGENASSIST: SubWord of dwords 1 and 3, and each rotated right by 8 bits and XORed with the round constant.</summary>
    public static Vector128<byte> SoftwareKeygenAssist(Vector128<byte> source, byte rcon)
    {
        var x = source.AsUInt32();
        var x1 = SubWord(x.GetElement(1));
        var x3 = SubWord(x.GetElement(3));
        return Vector128.Create(x1, RotateRight8(x1) ^ rcon, x3, RotateRight8(x3) ^ rcon).AsByte();
    }

    private static uint SubWord(uint w) =>
        SBox[w & 0xFF] | ((uint)SBox[(w >> 8) & 0xFF] << 8) | ((uint)SBox[(w >> 16) & 0xFF] << 16) | ((uint)SBox[w >> 24] << 24);

    private static uint RotateRight8(uint w) => (w >> 8) | (w << 24);

    /// <summary>Each column multiplied by the circulant matrix (m0 m1 m2 m3): MixColumns is (2 3 1 1), InvMixColumns (14 11 13 9).</summary>
    private static void MixColumns(Span<byte> s, byte m0, byte m1, byte m2, byte m3)
    {
        Span<byte> col = stackalloc byte[4];
        for (var c = 0; c < 4; c++)
        {
            s.Slice(4 * c, 4).CopyTo(col);
            for (var r = 0; r < 4; r++)
                s[4 * c + r] = (byte)(Multiply(m0, col[r]) ^ Multiply(m1, col[(r + 1) & 3]) ^ Multiply(m2, col[(r + 2) & 3]) ^ Multiply(m3, col[(r + 3) & 3]));
        }
    }
}
