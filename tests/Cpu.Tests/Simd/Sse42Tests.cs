using System.Text;
using Sim.Cpu.Registers;
using Sim.Cpu.Simd;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.SimdGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>SSE4.2 by the SDM (vol. 2, 4.1 and CRC32, PCMPGTQ): the string comparisons' aggregations, polarities, outputs and flags; CRC-32C.</summary>
[TestClass]
public sealed class Sse42Tests
{
    private static void SetString(Processor c, int xmm, string s)
    {
        var bytes = new byte[16];
        Encoding.ASCII.GetBytes(s).CopyTo(bytes, 0);
        bytes.CopyTo(c.VectorRegister(xmm));
    }

    private static GuestRunner Compare(Action<Iced.Intel.Assembler> compare) => SimdGuest.Long(a =>
    {
        compare(a);
        a.pushfq();
        a.pop(rbx);
    });

    [TestMethod]
    public void EqualAnyFindsTheFirstAndLastVowel()
    {
        foreach (var (imm, index) in new[] { ((sbyte)0x00, 1UL), ((sbyte)0x40, 7UL) })
        {
            using var g = Compare(a => a.pcmpistri(xmm1, xmm2, imm));
            SetString(g.Cpu, 1, "aeiou");
            SetString(g.Cpu, 2, "hello world");
            RunToEnd(g);
            Assert.AreEqual(index, g.Cpu.Rcx);
            Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF, g.Cpu.Rbx & Rflags.Status, "a match, both strings end, 'h' no vowel (OF = 0)");
        }
    }

    [TestMethod]
    public void EqualOrderedFindsASubstring()
    {
        using var g = Compare(a => a.pcmpistri(xmm1, xmm2, 0x0C));
        SetString(g.Cpu, 1, "wor");
        SetString(g.Cpu, 2, "hello world");
        RunToEnd(g);
        Assert.AreEqual(6UL, g.Cpu.Rcx);
    }

    [TestMethod]
    public void EqualOrderedCountsAPartialMatchAtTheRegistersEnd()
    {
        // The comparisons for start j stop at the register's last element (SDM vol. 2, 4.1.4: i ≤ UpperBound − j).
        using var g = Compare(a => a.pcmpistri(xmm1, xmm2, 0x0C));
        SetString(g.Cpu, 1, "xyz");
        SetString(g.Cpu, 2, "abcdefghijklmnxy");
        RunToEnd(g);
        Assert.AreEqual(14UL, g.Cpu.Rcx, "'xy' at 14, cut short by the register's end");
        Assert.AreEqual(Rflags.CF | Rflags.SF, g.Cpu.Rbx & Rflags.Status, "no zero element in the second operand: ZF clear");
    }

    [TestMethod]
    public void EqualOrderedPastTheSecondStringsEndIsFalse()
    {
        using var g = Compare(a => a.pcmpistri(xmm1, xmm2, 0x0C));
        SetString(g.Cpu, 1, "xyz");
        SetString(g.Cpu, 2, "abcxy");
        RunToEnd(g);
        Assert.AreEqual(16UL, g.Cpu.Rcx, "'z' meets the end of 'abcxy'");
        Assert.AreEqual(Rflags.ZF | Rflags.SF, g.Cpu.Rbx & Rflags.Status);
    }

    [TestMethod]
    public void RangesGiveAByteMask()
    {
        using var g = Compare(a => a.pcmpistrm(xmm3, xmm2, 0x44));
        SetString(g.Cpu, 3, "az");
        SetString(g.Cpu, 2, "hello world");
        RunToEnd(g);
        Assert.AreEqual(0xFFFF_00FF_FFFF_FFFFUL, Qword(g.Cpu, 0, 0));
        Assert.AreEqual(0x0000_0000_00FF_FFFFUL, Qword(g.Cpu, 0, 1));
    }

    [TestMethod]
    public void ExplicitLengthsNegativePolarityAndMaskedNegative()
    {
        using (var g = Compare(a =>
        {
            a.mov(eax, 5);
            a.mov(edx, -3);
            a.pcmpestri(xmm1, xmm4, 0x10);
        }))
        {
            SetString(g.Cpu, 1, "aeiou");
            SetString(g.Cpu, 4, "aexyzaaaaaaaaaaa");
            RunToEnd(g);
            Assert.AreEqual(2UL, g.Cpu.Rcx, "|−3| = 3: 'x' is the first non-vowel");
            Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF, g.Cpu.Rbx & Rflags.Status);
        }
        using (var g = Compare(a =>
        {
            a.mov(eax, 5);
            a.mov(edx, 3);
            a.pcmpestrm(xmm1, xmm4, 0x30);
        }))
        {
            SetString(g.Cpu, 1, "aeiou");
            SetString(g.Cpu, 4, "aexyzaaaaaaaaaaa");
            RunToEnd(g);
            Assert.AreEqual(4UL, Qword(g.Cpu, 0, 0), "masked negative: inverted only within the second string's length");
            Assert.AreEqual(0UL, Qword(g.Cpu, 0, 1));
        }
    }

    [TestMethod]
    public void LengthsSaturateAndRexWReadsRaxAndRdx()
    {
        foreach (var (rexW, index) in new[] { (false, 5UL), (true, 16UL) })
        {
            using var g = Compare(a =>
            {
                a.mov(rax, 0x1_0000_0005);
                a.mov(rdx, 0x1_0000_0005);
                if (rexW) a.pcmpestri64(xmm5, xmm5, 0x38);
                else a.pcmpestri(xmm5, xmm5, 0x38);
            });
            SetString(g.Cpu, 5, "0123456789abcdef");
            RunToEnd(g);
            Assert.AreEqual(index, g.Cpu.Rcx, rexW ? "RDX saturates to 16" : "EDX = 5");
        }
    }

    [TestMethod]
    public void WordElementsSigned()
    {
        // Signed words, ranges: −5..5 contains 0 and −1 but not 7FFFh or 8000h.
        using var g = Compare(a =>
        {
            a.mov(eax, 2);
            a.mov(edx, 5);
            a.pcmpestrm(xmm1, xmm2, 0x07 | 0x40);
        });
        SetXmm(g.Cpu, 1, 0x0005_FFFB, 0);
        SetXmm(g.Cpu, 2, 0x8000_7FFF_FFFF_0000, 0x0006);
        RunToEnd(g);
        Assert.AreEqual(0x0000_0000_FFFF_FFFFUL, Qword(g.Cpu, 0, 0));
        Assert.AreEqual(0UL, Qword(g.Cpu, 0, 1), "the zeros past the length of 5 are not compared");
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF | Rflags.OF, g.Cpu.Rbx & Rflags.Status);
    }

    [TestMethod]
    public void CompareGreaterQwordsIsSigned()
    {
        using var g = SimdGuest.Long(a => a.pcmpgtq(xmm0, xmm1));
        SetXmm(g.Cpu, 0, 0x8000_0000_0000_0000, 1);
        SetXmm(g.Cpu, 1, 1, 0x8000_0000_0000_0000);
        RunToEnd(g);
        Assert.AreEqual(0UL, Qword(g.Cpu, 0, 0));
        Assert.AreEqual(ulong.MaxValue, Qword(g.Cpu, 0, 1));
    }

    [TestMethod]
    public void Crc32CCheckValueInEveryOperandSize()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rsi, SimdGuest.Data);
            a.mov(eax, -1);
            for (var i = 0; i < 9; i++) a.crc32(eax, __byte_ptr[rsi + i]);
            a.not(eax);
            a.mov(rbx, -1);
            a.mov(ebx, -1);
            a.crc32(rbx, __qword_ptr[rsi]);
            a.crc32(rbx, __byte_ptr[rsi + 8]);
            a.not(ebx);
            a.mov(ecx, -1);
            a.crc32(ecx, __word_ptr[rsi]);
            a.crc32(ecx, __dword_ptr[rsi + 2]);
            a.mov(dx, __word_ptr[rsi + 6]);
            a.crc32(ecx, dx);
            a.mov(dl, __byte_ptr[rsi + 8]);
            a.crc32(ecx, dl);
            a.not(ecx);
            a.hlt();
        });
        g.Memory.WriteBytes(SimdGuest.Data, Encoding.ASCII.GetBytes("123456789"));
        RunToEnd(g);
        Assert.AreEqual(0xE306_9283UL, g.Cpu.Rax, "CRC-32C check value");
        Assert.AreEqual(0xE306_9283UL, g.Cpu.Rbx, "r64 forms: the result zero-extended");
        Assert.AreEqual(0xE306_9283UL, g.Cpu.Rcx);
    }

    [TestMethod]
    public void Crc32TablePathMatchesTheHostInstruction()
    {
        if (!System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported) Assert.Inconclusive("the host has no SSE4.2");
        var random = new Random(42);
        for (var i = 0; i < 10000; i++)
        {
            var crc = (uint)random.NextInt64();
            var data = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            var bytes = 1 << random.Next(4);
            Assert.AreEqual(Crc32C.Accumulate(crc, data, bytes), Crc32C.Software(crc, data, bytes));
        }
    }

    [TestMethod]
    public void PopcntCountsAndSetsZf()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rax, -1);
            a.popcnt(rbx, rax);
            a.xor(eax, eax);
            a.popcnt(ecx, eax);
            a.pushfq();
            a.pop(rdx);
            a.hlt();
        });
        RunToEnd(g);
        Assert.AreEqual(64UL, g.Cpu.Rbx);
        Assert.AreEqual(0UL, g.Cpu.Rcx);
        Assert.AreEqual(Rflags.ZF, g.Cpu.Rdx & Rflags.Status, "ZF for a zero source, the other status flags clear");
    }
}
