using CsCheck;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>
/// BMI1, BMI2, ADX, TZCNT and LZCNT (SDM vol. 2, each instruction's Operation and Flags Affected; vol. 2A, 2.5.1 and
/// table 2-29 for the #UD conditions of VEX-encoded GPR instructions). Expected values come from the SDM's pseudocode; for the flags it
/// leaves undefined the tests expect AMD Zen 3's values (PF from the result, AF clear; BEXTR: SF clear, AF set;
/// TZCNT/LZCNT: OF kept, SF, AF and PF clear), which <see cref="BitManipulationHostOracleTests"/> checks on the host.
/// </summary>
[TestClass]
public sealed class BitManipulationTests
{
    private const ulong Status = Rflags.Status;

    /// <summary>Runs 64-bit code after setting RFLAGS' status flags to <paramref name="flags"/>; the code ends with HLT.</summary>
    private static GuestRunner Run(ulong flags, Action<Iced.Intel.Assembler> body)
    {
        var g = GuestRunner.Long(a =>
        {
            a.push((int)(flags | Rflags.Reserved1));
            a.popfq();
            body(a);
            a.hlt();
        });
        Assert.AreEqual(StopReason.Halted, g.Run(), $"RIP={g.Cpu.Rip:x}");
        Assert.AreEqual(-1, g.HaltedVector, "no exception");
        return g;
    }

    [TestMethod]
    public void CpuidAnnouncesBmi1Bmi2AdxAndLzcntForBothVendors()
    {
        foreach (var vendor in new[] { CpuVendor.Intel, CpuVendor.Amd })
        {
            using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus()) { Vendor = vendor };
            cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
            Assert.AreEqual((1u << 3) | (1u << 8) | (1u << 19), ebx & ((1u << 3) | (1u << 8) | (1u << 19)), $"{vendor}: BMI1, BMI2, ADX");
            cpu.Cpuid(0x80000001, 0, out _, out _, out var ecx, out _);
            Assert.AreNotEqual(0u, ecx & (1u << 5), $"{vendor}: LZCNT (ABM)");
        }
    }

    [TestMethod]
    public void AndnComplementsTheFirstSourceAndClearsCfOf()
    {
        using var g = Run(Rflags.CF | Rflags.OF | Rflags.AF, a =>
        {
            a.mov(rbx, 0xFF00_FF00_FF00_FF00);
            a.mov(rcx, 0x8F0F_0F0F_0F0F_0F0F);
            a.andn(rax, rbx, rcx);
            a.mov(edx, 0xFFFF_0000);
            a.mov(rsi, -1L);
            a.andn(esi, edx, esi);
        });
        Assert.AreEqual(0x000F_000F_000F_000FUL, g.Cpu.Rax);
        Assert.AreEqual(0xFFFFUL, g.Cpu.Rsi, "a 32-bit result is zero-extended");
        Assert.AreEqual(Rflags.PF, g.Cpu.Flags & Status, "0xFFFF: not zero, not negative, even parity; CF, OF, AF clear");
    }

    [TestMethod]
    public void AndnOfEqualSourcesIsZero()
    {
        using var g = Run(0, a =>
        {
            a.mov(rbx, 0x8000_0000_0000_0001);
            a.andn(rax, rbx, rbx);
        });
        Assert.AreEqual(0UL, g.Cpu.Rax);
        Assert.AreEqual(Rflags.ZF | Rflags.PF, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void BextrExtractsStartAndLengthAndZeroFillsBeyondTheOperand()
    {
        using var g = Run(Rflags.CF | Rflags.OF | Rflags.SF, a =>
        {
            a.mov(rcx, 0x1234_5678_9ABC_DEF0);
            a.mov(edx, 0x0C04);
            a.bextr(rax, rcx, rdx);
            a.mov(edx, 0x4038);
            a.bextr(rbx, rcx, rdx);
            a.mov(edx, 0xFF00);
            a.bextr(rsi, rcx, rdx);
            a.mov(edx, 0x0840);
            a.bextr(rdi, rcx, rdx);
            a.mov(edx, 0x2010);
            a.bextr(r8d, ecx, edx);
            a.mov(edx, 0x0420);
            a.bextr(r9d, ecx, edx);
        });
        Assert.AreEqual(0xDEFUL, g.Cpu.Rax, "bits 15:4");
        Assert.AreEqual(0x12UL, g.Cpu.Rbx, "start 56, length 64: the bits above 63 are zero");
        Assert.AreEqual(0x1234_5678_9ABC_DEF0UL, g.Cpu.Rsi, "length 255 from 0: the whole operand");
        Assert.AreEqual(0UL, g.Cpu.Rdi, "start 64: nothing");
        Assert.AreEqual(0x9ABCUL, g.Cpu.GetGpr(8), "32-bit: start 16, length 32 stops at bit 31");
        Assert.AreEqual(0UL, g.Cpu.GetGpr(9), "32-bit: start 32 is beyond the operand");
        Assert.AreEqual(Rflags.ZF | Rflags.PF | Rflags.AF, g.Cpu.Flags & Status, "ZF from the zero result; CF, OF cleared");
    }

    [TestMethod]
    public void BlsiIsolatesTheLowestSetBitAndSetsCfForANonZeroSource()
    {
        using var g = Run(Rflags.OF, a =>
        {
            a.mov(rcx, 0x8000_0000_0000_0000);
            a.blsi(rax, rcx);
            a.pushfq();
            a.mov(ecx, 0x0006_0000);
            a.blsi(ebx, ecx);
            a.pushfq();
            a.xor(ecx, ecx);
            a.blsi(rdx, rcx);
        });
        Assert.AreEqual(0x8000_0000_0000_0000UL, g.Cpu.Rax);
        Assert.AreEqual(Rflags.CF | Rflags.SF | Rflags.PF, g.Stack(1, 8) & Status);
        Assert.AreEqual(0x0002_0000UL, g.Cpu.Rbx);
        Assert.AreEqual(Rflags.CF | Rflags.PF, g.Stack(0, 8) & Status);
        Assert.AreEqual(0UL, g.Cpu.Rdx);
        Assert.AreEqual(Rflags.ZF | Rflags.PF, g.Cpu.Flags & Status, "zero source: CF clear, ZF set");
    }

    [TestMethod]
    public void BlsmskMasksUpToTheLowestSetBit()
    {
        using var g = Run(Rflags.ZF | Rflags.OF, a =>
        {
            a.mov(ecx, 0x0000_0128);
            a.blsmsk(eax, ecx);
            a.pushfq();
            a.xor(ecx, ecx);
            a.blsmsk(rbx, rcx);
        });
        Assert.AreEqual(0xFUL, g.Cpu.Rax);
        Assert.AreEqual(Rflags.PF, g.Stack(0, 8) & Status, "0x0F: ZF and OF cleared, CF clear for a non-zero source");
        Assert.AreEqual(ulong.MaxValue, g.Cpu.Rbx, "zero source: all ones");
        Assert.AreEqual(Rflags.CF | Rflags.SF | Rflags.PF, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void BlsrResetsTheLowestSetBit()
    {
        using var g = Run(Rflags.OF, a =>
        {
            a.mov(rcx, 0x8000_0000_0000_0000);
            a.blsr(rax, rcx);
            a.pushfq();
            a.mov(ecx, 0x0000_0118);
            a.blsr(ebx, ecx);
            a.pushfq();
            a.xor(ecx, ecx);
            a.blsr(edx, ecx);
        });
        Assert.AreEqual(0UL, g.Cpu.Rax);
        Assert.AreEqual(Rflags.ZF | Rflags.PF, g.Stack(1, 8) & Status, "the only bit: zero, CF clear");
        Assert.AreEqual(0x110UL, g.Cpu.Rbx);
        Assert.AreEqual(0UL, g.Stack(0, 8) & Status, "0x10: odd parity");
        Assert.AreEqual(0UL, g.Cpu.Rdx, "zero source: (0 - 1) AND 0");
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.PF, g.Cpu.Flags & Status, "CF for the zero source");
    }

    [TestMethod]
    public void BzhiClearsFromTheIndexAndSetsCfWhenTheIndexIsBeyondTheOperand()
    {
        using var g = Run(Rflags.OF, a =>
        {
            a.mov(rcx, -1L);
            a.mov(edx, 0x0104);
            a.bzhi(rax, rcx, rdx);
            a.pushfq();
            a.mov(edx, 64);
            a.bzhi(rbx, rcx, rdx);
            a.pushfq();
            a.mov(edx, 32);
            a.bzhi(esi, ecx, edx);
            a.pushfq();
            a.xor(edx, edx);
            a.bzhi(edi, ecx, edx);
        });
        Assert.AreEqual(0xFUL, g.Cpu.Rax, "only bits 7:0 of the index count");
        Assert.AreEqual(Rflags.PF, g.Stack(2, 8) & Status);
        Assert.AreEqual(ulong.MaxValue, g.Cpu.Rbx, "index 64: unchanged");
        Assert.AreEqual(Rflags.CF | Rflags.SF | Rflags.PF, g.Stack(1, 8) & Status);
        Assert.AreEqual(0xFFFF_FFFFUL, g.Cpu.Rsi, "32-bit, index 32: unchanged, zero-extended");
        Assert.AreEqual(Rflags.CF | Rflags.SF | Rflags.PF, g.Stack(0, 8) & Status);
        Assert.AreEqual(0UL, g.Cpu.Rdi, "index 0: nothing left");
        Assert.AreEqual(Rflags.ZF | Rflags.PF, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void MulxWritesLowThenHighAndNoFlags()
    {
        const ulong flags = Rflags.CF | Rflags.ZF | Rflags.SF | Rflags.OF;
        using var g = Run(flags, a =>
        {
            a.mov(rdx, -1L);
            a.mov(rcx, 3);
            a.mulx(rax, rbx, rcx);
            a.mov(edx, 0x8000_0001);
            a.mov(ecx, 0x10);
            a.mov(rsi, -1L);
            a.mov(rdi, -1L);
            a.mulx(esi, edi, ecx);
            a.mov(rdx, 0x1_0000_0000);
            a.mov(r8, 0x1_0000_0002);
            a.mulx(r9, r9, r8);
        });
        Assert.AreEqual(2UL, g.Cpu.Rax, "high half of (2^64 - 1) * 3");
        Assert.AreEqual(0xFFFF_FFFF_FFFF_FFFDUL, g.Cpu.Rbx, "low half");
        Assert.AreEqual(8UL, g.Cpu.Rsi, "32-bit high half, zero-extended");
        Assert.AreEqual(0x10UL, g.Cpu.Rdi, "32-bit low half, zero-extended");
        Assert.AreEqual(1UL, g.Cpu.GetGpr(9), "the same register for both destinations keeps the high half");
        Assert.AreEqual(flags, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void PdepAndPextDepositAndExtractAtTheMaskBits()
    {
        const ulong flags = Rflags.CF | Rflags.SF | Rflags.OF;
        using var g = Run(flags, a =>
        {
            a.mov(ecx, 0b1011_0101);
            a.mov(edx, 0xF000_0F0F);
            a.pdep(eax, ecx, edx);
            a.mov(ecx, 0x1234_5678);
            a.mov(edx, 0xFF00_00F0);
            a.pext(ebx, ecx, edx);
            a.mov(rsi, -1L);
            a.mov(edi, 0);
            a.pdep(rsi, rsi, rdi);
            a.mov(r8, 0x8000_0000_0000_0001);
            a.mov(r9, -1L);
            a.pext(r10, r8, r9);
        });
        Assert.AreEqual(0x0000_0B05UL, g.Cpu.Rax, "source bits 3:0 to mask bits 3:0, 7:4 to bits 11:8, none to 31:28");
        Assert.AreEqual(0x127UL, g.Cpu.Rbx, "bits 31:24 (0x12) above bits 7:4 (0x7)");
        Assert.AreEqual(0UL, g.Cpu.Rsi, "an empty mask deposits nothing");
        Assert.AreEqual(0x8000_0000_0000_0001UL, g.Cpu.GetGpr(10), "a full mask extracts everything");
        Assert.AreEqual(flags, g.Cpu.Flags & Status, "no flag changes");
    }

    [TestMethod]
    public void PortableDepositAndExtractAgreeWithTheHostAndTheDefinition()
    {
        Gen.Select(Gen.ULong, Gen.ULong).Sample((source, mask) =>
        {
            ulong deposit = 0, extract = 0;
            var k = 0;
            for (var m = 0; m < 64; m++)
            {
                if ((mask >> m & 1) == 0) continue;
                deposit |= (source >> k & 1) << m;
                extract |= (source >> m & 1) << k;
                k++;
            }
            Assert.AreEqual(deposit, ParallelBits.DepositPortable(source, mask));
            Assert.AreEqual(extract, ParallelBits.ExtractPortable(source, mask));
            Assert.AreEqual(deposit, ParallelBits.Deposit(source, mask));
            Assert.AreEqual(extract, ParallelBits.Extract(source, mask));
        });
    }

    [TestMethod]
    public void RorxSarxShlxShrxMaskTheirCountsAndLeaveTheFlags()
    {
        const ulong flags = Rflags.CF | Rflags.OF | Rflags.AF;
        using var g = Run(flags, a =>
        {
            a.mov(rcx, 0x8000_0000_0000_0011);
            a.rorx(rax, rcx, 68);
            a.rorx(ebx, ecx, 36);
            a.mov(edx, 0x104);
            a.sarx(rsi, rcx, rdx);
            a.sarx(edi, ecx, edx);
            a.mov(edx, 33);
            a.shlx(r8d, ecx, edx);
            a.shlx(r9, rcx, rdx);
            a.mov(edx, 127);
            a.shrx(r10, rcx, rdx);
        });
        Assert.AreEqual(0x1800_0000_0000_0001UL, g.Cpu.Rax, "68 & 63 = 4");
        Assert.AreEqual(0x1000_0001UL, g.Cpu.Rbx, "36 & 31 = 4, 32-bit");
        Assert.AreEqual(0xF800_0000_0000_0001UL, g.Cpu.Rsi, "0x104 & 63 = 4, sign-filled");
        Assert.AreEqual(0x1UL, g.Cpu.Rdi, "32-bit: bit 31 of 0x00000011 is clear");
        Assert.AreEqual(0x22UL, g.Cpu.GetGpr(8), "33 & 31 = 1");
        Assert.AreEqual(0x22_0000_0000UL, g.Cpu.GetGpr(9), "33, 64-bit");
        Assert.AreEqual(1UL, g.Cpu.GetGpr(10), "127 & 63 = 63");
        Assert.AreEqual(flags, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void AdcxChangesOnlyCfAndAdoxOnlyOf()
    {
        using var g = Run(Rflags.CF | Rflags.ZF | Rflags.SF, a =>
        {
            a.mov(rax, -1L);
            a.mov(ebx, 0);
            a.adcx(rax, rbx);
            a.pushfq();
            a.mov(ecx, 0x7FFF_FFFF);
            a.mov(edx, 1);
            a.adox(ecx, edx);
            a.pushfq();
            a.mov(esi, 0xFFFF_FFFF);
            a.adox(esi, edx);
            a.pushfq();
            a.mov(edi, 5);
            a.adox(edi, edx);
        });
        Assert.AreEqual(0UL, g.Cpu.Rax, "(2^64 - 1) + 0 + CF");
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF, g.Stack(2, 8) & Status, "CF = carry out; ZF and SF as they were");
        Assert.AreEqual(0x8000_0000UL, g.Cpu.Rcx, "OF was clear: no carry in");
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF, g.Stack(1, 8) & Status, "no unsigned carry, so OF stays clear (signed overflow does not count)");
        Assert.AreEqual(0UL, g.Cpu.Rsi);
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF | Rflags.OF, g.Stack(0, 8) & Status, "the carry out goes to OF");
        Assert.AreEqual(7UL, g.Cpu.Rdi, "5 + 1 + OF");
        Assert.AreEqual(Rflags.CF | Rflags.ZF | Rflags.SF, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void TzcntAndLzcntCountAndGiveTheOperandSizeForZero()
    {
        using var g = Run(Rflags.OF | Rflags.SF | Rflags.PF | Rflags.AF, a =>
        {
            a.mov(rax, 0x5555);
            a.mov(rbx, 0x5555);
            a.mov(rsi, 0x5555);
            a.mov(ecx, 0);
            a.tzcnt(ax, cx);
            a.tzcnt(ebx, ecx);
            a.lzcnt(rsi, rcx);
            a.pushfq();
            a.mov(ecx, 0x8000_0000);
            a.tzcnt(rdi, rcx);
            a.lzcnt(r8d, ecx);
            a.pushfq();
            a.mov(ecx, 1);
            a.tzcnt(r9, rcx);
        });
        Assert.AreEqual(16UL, g.Cpu.Rax & 0xFFFF, "16-bit zero source");
        Assert.AreEqual(32UL, g.Cpu.Rbx);
        Assert.AreEqual(64UL, g.Cpu.Rsi);
        Assert.AreEqual(Rflags.CF | Rflags.OF, g.Stack(1, 8) & Status, "zero source: CF; OF kept, SF, AF, PF cleared");
        Assert.AreEqual(31UL, g.Cpu.Rdi);
        Assert.AreEqual(0UL, g.Cpu.GetGpr(8), "bit 31 set: no leading zeros");
        Assert.AreEqual(Rflags.ZF | Rflags.OF, g.Stack(0, 8) & Status, "a zero count sets ZF");
        Assert.AreEqual(0UL, g.Cpu.GetGpr(9));
        Assert.AreEqual(Rflags.ZF | Rflags.OF, g.Cpu.Flags & Status);
    }

    [TestMethod]
    public void MemoryOperandsAreReadAtTheOperandSize()
    {
        using var g = Run(0, a =>
        {
            a.mov(rdi, 0x20_0000);
            a.mov(rax, 0x1111_2222_8000_0010);
            a.mov(__qword_ptr[rdi], rax);
            a.mov(ebx, 0x0404);
            a.bextr(ecx, __dword_ptr[rdi], ebx);
            a.bextr(r12, __qword_ptr[rdi + 4], rbx);
            a.blsi(esi, __dword_ptr[rdi]);
            a.mov(r8, -1L);
            a.pdep(r9, r8, __qword_ptr[rdi]);
            a.mov(rdx, 2);
            a.mov(r10, -1L);
            a.mulx(r10d, r11d, __dword_ptr[rdi]);
        });
        Assert.AreEqual(1UL, g.Cpu.Rcx);
        Assert.AreEqual(0x2UL, g.Cpu.GetGpr(12), "a quadword at +4: 0x11112222, bits 7:4");
        Assert.AreEqual(0x10UL, g.Cpu.Rsi);
        Assert.AreEqual(0x1111_2222_8000_0010UL, g.Cpu.GetGpr(9));
        Assert.AreEqual(1UL, g.Cpu.GetGpr(10), "2 * 0x80000010: high half, zero-extended");
        Assert.AreEqual(0x20UL, g.Cpu.GetGpr(11), "low half");
    }

    [TestMethod]
    public void VexGeneralPurposeInstructionsRaiseUdInRealMode()
    {
        // ANDN EAX, EBX, ECX (C4 E2 60 F2 C1): in 16-bit code C4 with ModRM-like bits 11 is VEX, #UD in real-address mode.
        using var g = GuestRunner.Real(a => a.db(0xC4, 0xE2, 0x60, 0xF2, 0xC1));
        Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void AdcxRunsInRealMode()
    {
        using var g = GuestRunner.Real(a =>
        {
            a.stc();
            a.mov(eax, 1);
            a.mov(ebx, 2);
            a.adcx(eax, ebx);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector(), "ADCX is legacy-encoded: no VEX restriction");
        Assert.AreEqual(4UL, g.Cpu.Rax);
    }

    [TestMethod]
    public void VexGeneralPurposeInstructionsRaiseUdInVirtual8086Mode()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.push(0);
            a.push(0);
            a.push(0);
            a.push(0);
            a.push(0x3000);
            a.push(0x0FF0);
            a.push((int)(Rflags.VM | Rflags.Reserved1 | (3UL << 12)));
            a.push(0x2000);
            a.push(0x0100);
            a.iretd();
        });
        g.Load(0x20100, [0xC4, 0xE2, 0x60, 0xF2, 0xC1]);
        Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
        Assert.AreEqual(0x100UL, g.Stack(0), "the fault's IP is the ANDN");
        Assert.AreEqual(0x2000UL, g.Stack(1), "and its CS");
    }

    [TestMethod]
    public void VexLengthOneAndLegacyPrefixesBeforeVexRaiseUd()
    {
        byte[][] encodings =
        [
            [0xC4, 0xE2, 0x64, 0xF2, 0xC1],
            [0x66, 0xC4, 0xE2, 0x60, 0xF2, 0xC1],
            [0xF2, 0xC4, 0xE2, 0x60, 0xF2, 0xC1],
            [0xF3, 0xC4, 0xE2, 0x60, 0xF2, 0xC1],
            [0x48, 0xC4, 0xE2, 0x60, 0xF2, 0xC1],
            [0xF0, 0xC4, 0xE2, 0x60, 0xF2, 0xC1],
        ];
        foreach (var bytes in encodings)
        {
            using var g = GuestRunner.Long(a => a.db(bytes));
            Assert.AreEqual(ExceptionVector.UD, g.RunToVector(), Convert.ToHexString(bytes));
            Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(0, 8), "RIP of the faulting instruction");
        }
    }

    [TestMethod]
    public void XopEncodedBextrOfTbmIsUndefined()
    {
        // XOP.L0.XA.W0 10 /r id (8F EA 78 10 C1 imm32): AMD's TBM form of BEXTR, which CPUID does not announce (8000_0001h:ECX[21]).
        using var g = GuestRunner.Long(a => a.db(0x8F, 0xEA, 0x78, 0x10, 0xC1, 0x04, 0x04, 0x00, 0x00));
        g.Cpu.Cpuid(0x80000001, 0, out _, out _, out var ecx, out _);
        Assert.AreEqual(0u, ecx & (1u << 21), "no TBM");
        Assert.AreEqual(ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void VexWIsIgnoredOutsideSixtyFourBitMode()
    {
        // ANDN with VEX.W1 (C4 E2 E0 F2 C1) in 32-bit protected mode is the 32-bit ANDN EAX, EBX, ECX.
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ebx, 0x0000_FFFF);
            a.mov(ecx, 0x1234_5678);
            a.db(0xC4, 0xE2, 0xE0, 0xF2, 0xC1);
            a.hlt();
        });
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(0x1234_0000UL, g.Cpu.Rax);
    }

    [TestMethod]
    public void VexInstructionsNeedNeitherOsxsaveNorXcr0()
    {
        using var g = Run(0, a =>
        {
            a.mov(ecx, 0x30);
            a.mov(edx, 0x20);
            a.shrx(eax, ecx, edx);
        });
        Assert.AreEqual(0UL, g.Cpu.Cr4 & Cr4.OSXSAVE, "CR4.OSXSAVE is clear in the test machine");
        Assert.AreEqual(0x30UL, g.Cpu.Rax, "count 32 & 31 = 0");
    }
}
