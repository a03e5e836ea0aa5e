using System.Runtime.Intrinsics;
using Sim.Cpu.Simd;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>AES-NI against FIPS-197's test vectors and PCLMULQDQ against GF(2)[x] identities; the software paths against the host instructions.</summary>
[TestClass]
public sealed class AesPclmulqdqTests
{
    private static readonly byte[] Rcon = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36];

    private static Vector128<byte> Bytes(string hex) => Vector128.Create(Convert.FromHexString(hex));

    /// <summary>FIPS-197 appendix C.1 (AES-128) in the guest: the key schedule by AESKEYGENASSIST, the rounds by AESENC/AESENCLAST.</summary>
    [TestMethod]
    public void Aes128EncryptsTheFips197Vector()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.pxor(xmm1, xmm0);
            for (var round = 0; round < 10; round++)
            {
                a.aeskeygenassist(xmm2, xmm0, Rcon[round]);
                a.pshufd(xmm2, xmm2, 0xFF);
                a.movdqa(xmm3, xmm0);
                for (var k = 0; k < 3; k++)
                {
                    a.pslldq(xmm3, 4);
                    a.pxor(xmm0, xmm3);
                }
                a.pxor(xmm0, xmm2);
                if (round < 9) a.aesenc(xmm1, xmm0);
                else a.aesenclast(xmm1, xmm0);
            }
        });
        var c = g.Cpu;
        SetXmm(c, 0, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908);
        SetXmm(c, 1, 0x7766_5544_3322_1100, 0xFFEE_DDCC_BBAA_9988);
        RunToEnd(g);
        Assert.AreEqual(Bytes("69c4e0d86a7b0430d8cdb78070b4c55a").AsUInt64()[0], Qword(c, 1, 0));
        Assert.AreEqual(Bytes("69c4e0d86a7b0430d8cdb78070b4c55a").AsUInt64()[1], Qword(c, 1, 1));
        Assert.AreEqual(Bytes("13111d7fe3944a17f307a78b4d2b30c5").AsUInt64()[0], Qword(c, 0, 0), "the last round key (FIPS-197 C.1 round[10].k_sch)");
    }

    [TestMethod]
    public void OneRoundOfFips197AppendixB()
    {
        using var g = SimdGuest.Long(a => a.aesenc(xmm0, xmm1));
        var c = g.Cpu;
        Bytes("193de3bea0f4e22b9ac68d2ae9f84808").CopyTo(c.VectorRegister(0));
        Bytes("a0fafe1788542cb123a339392a6c7605").CopyTo(c.VectorRegister(1));
        RunToEnd(g);
        Assert.AreEqual(Bytes("a49c7ff2689f352b6b5bea43026a5049"), Vector128.Create((ReadOnlySpan<byte>)c.VectorRegister(0)[..16]));
    }

    private delegate Vector128<byte> Round(Vector128<byte> state, Vector128<byte> key, bool last);

    /// <summary>FIPS-197 C.1 encrypted with the round functions, then decrypted by the equivalent inverse cipher (AESIMC of the round keys).</summary>
    private static void EncryptAndDecrypt(Round encrypt, Round decrypt, Func<Vector128<byte>, Vector128<byte>> inverseMix, Func<Vector128<byte>, byte, Vector128<byte>> keygen)
    {
        var keys = new Vector128<byte>[11];
        keys[0] = Bytes("000102030405060708090a0b0c0d0e0f");
        for (var r = 1; r <= 10; r++)
        {
            var assist = Vector128.Create(keygen(keys[r - 1], Rcon[r - 1]).AsUInt32()[3]).AsByte();
            var k = keys[r - 1];
            k ^= Lane(k, 4) ^ Lane(k, 8) ^ Lane(k, 12);
            keys[r] = k ^ assist;
        }
        var state = Bytes("00112233445566778899aabbccddeeff") ^ keys[0];
        for (var r = 1; r <= 10; r++) state = encrypt(state, keys[r], r == 10);
        Assert.AreEqual(Bytes("69c4e0d86a7b0430d8cdb78070b4c55a"), state);
        state ^= keys[10];
        for (var r = 9; r >= 1; r--) state = decrypt(state, inverseMix(keys[r]), false);
        state = decrypt(state, keys[0], true);
        Assert.AreEqual(Bytes("00112233445566778899aabbccddeeff"), state);
    }

    /// <summary>The register shifted left by <paramref name="bytes"/> bytes (PSLLDQ).</summary>
    private static Vector128<byte> Lane(Vector128<byte> v, int bytes)
    {
        Span<byte> r = stackalloc byte[16];
        for (var i = bytes; i < 16; i++) r[i] = v[i - bytes];
        return Vector128.Create((ReadOnlySpan<byte>)r);
    }

    [TestMethod]
    public void SoftwarePathMeetsFips197()
    {
        EncryptAndDecrypt(AesRound.SoftwareEncrypt, AesRound.SoftwareDecrypt, AesRound.SoftwareInverseMixColumns, AesRound.SoftwareKeygenAssist);
    }

    [TestMethod]
    public void HostPathMeetsFips197()
    {
        EncryptAndDecrypt((s, k, last) => last ? AesRound.EncryptLast(s, k) : AesRound.Encrypt(s, k),
            (s, k, last) => last ? AesRound.DecryptLast(s, k) : AesRound.Decrypt(s, k), AesRound.InverseMixColumns, AesRound.KeygenAssist);
    }

    [TestMethod]
    public void SoftwarePathsMatchTheHostInstructions()
    {
        if (!System.Runtime.Intrinsics.X86.Aes.IsSupported || !System.Runtime.Intrinsics.X86.Pclmulqdq.IsSupported) Assert.Inconclusive("the host has no AES-NI or PCLMULQDQ");
        var random = new Random(7);
        Vector128<byte> Next() => Vector128.Create((ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63), (ulong)random.NextInt64()).AsByte();
        for (var i = 0; i < 2000; i++)
        {
            var (s, k) = (Next(), Next());
            var imm = (byte)random.Next(256);
            Assert.AreEqual(AesRound.Encrypt(s, k), AesRound.SoftwareEncrypt(s, k, false));
            Assert.AreEqual(AesRound.EncryptLast(s, k), AesRound.SoftwareEncrypt(s, k, true));
            Assert.AreEqual(AesRound.Decrypt(s, k), AesRound.SoftwareDecrypt(s, k, false));
            Assert.AreEqual(AesRound.DecryptLast(s, k), AesRound.SoftwareDecrypt(s, k, true));
            Assert.AreEqual(AesRound.InverseMixColumns(s), AesRound.SoftwareInverseMixColumns(s));
            Assert.AreEqual(AesRound.KeygenAssist(s, imm), AesRound.SoftwareKeygenAssist(s, imm));
            Assert.AreEqual(CarryLessMultiply.Multiply(s, k, imm), CarryLessMultiply.Software(s, k, imm));
        }
    }

    [TestMethod]
    public void CarryLessMultiplySelectsTheQwordsByImmediate()
    {
        using var g = SimdGuest.Long(a =>
        {
            a.movdqa(xmm2, xmm0);
            a.movdqa(xmm3, xmm0);
            a.movdqa(xmm4, xmm0);
            a.movdqa(xmm5, xmm0);
            a.pclmulqdq(xmm2, xmm1, 0x00);
            a.pclmulqdq(xmm3, xmm1, 0x11);
            a.pclmulqdq(xmm4, xmm1, 0x01);
            a.pclmulqdq(xmm5, xmm1, 0x10);
            a.movdqa(xmm6, xmm1);
            a.pclmulqdq(xmm6, xmm6, 0x00);
        });
        var c = g.Cpu;
        SetXmm(c, 0, 3, 0x8000_0000_0000_0000);
        SetXmm(c, 1, ulong.MaxValue, 2);
        RunToEnd(g);
        Assert.AreEqual((1UL, 1UL), (Qword(c, 2, 0), Qword(c, 2, 1)), "(x + 1)(x^63 + … + 1) = x^64 + 1");
        Assert.AreEqual((0UL, 1UL), (Qword(c, 3, 0), Qword(c, 3, 1)), "x^63 · x = x^64");
        Assert.AreEqual((0x8000_0000_0000_0000UL, 0x7FFF_FFFF_FFFF_FFFFUL), (Qword(c, 4, 0), Qword(c, 4, 1)), "x^63 (x^63 + … + 1)");
        Assert.AreEqual((6UL, 0UL), (Qword(c, 5, 0), Qword(c, 5, 1)), "(x + 1) · x");
        Assert.AreEqual((0x5555_5555_5555_5555UL, 0x5555_5555_5555_5555UL), (Qword(c, 6, 0), Qword(c, 6, 1)), "a square over GF(2) has only the even powers");
    }
}
