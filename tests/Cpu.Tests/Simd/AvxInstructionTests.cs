using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// AVX instructions checked against the SDM's operation sections (vol. 2): the 3-operand VMOVSS merge, VCMPPS's 32
/// predicates and their signalling, VMASKMOVPS's fault suppression for unselected elements, VTESTPS, VZEROUPPER/ALL,
/// VPERM2F128, VINSERTF128/VEXTRACTF128, VBROADCASTSS, VPERMILPS, the width change of VCVTPD2PS ymm, and that an
/// unmasked exception in any lane leaves the destination unwritten.
/// </summary>
[TestClass]
public sealed class AvxInstructionTests
{
    private const ulong Pattern = 0x1111_2222_3333_4444;

    /// <summary>The page directory entry (2 MiB page) of 0x600000–0x7FFFFF in GuestRunner's identity map, cleared so that it faults.</summary>
    private const ulong UnmappedBase = 0x600000;

    private static void UnmapThirdLargePage(GuestRunner g) => g.Memory.Write(0x102000 + 3 * 8, 8, 0);

    [TestMethod]
    public void CpuidAnnouncesAvx()
    {
        using var g = new GuestRunner();
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreEqual(1u << 28, ecx & (1u << 28), "CPUID.01H:ECX.AVX[28]");
    }

    [TestMethod]
    public void VmovssRegisterFormMergesWithVvvv()
    {
        using var g = AvxGuest.Long(a => a.vmovss(xmm0, xmm1, xmm2));
        AvxGuest.SetYmm(g.Cpu, 0, Pattern, Pattern, Pattern, Pattern);
        AvxGuest.SetYmm(g.Cpu, 1, 0xAAAA_AAAA_BBBB_BBBB, 0xCCCC_CCCC_DDDD_DDDD, Pattern, Pattern);
        AvxGuest.SetYmm(g.Cpu, 2, 0x9999_9999_1234_5678, 0x7777, Pattern, Pattern);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0xAAAA_AAAA_1234_5678, 0xCCCC_CCCC_DDDD_DDDD, 0, 0 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void VmovssFromMemoryZeroesTheRest()
    {
        using var g = AvxGuest.Long(a => a.vmovss(xmm3, __dword_ptr[rsi]));
        g.Memory.Write(SimdGuest.Data, 8, 0xFFFF_FFFF_4040_0000);
        AvxGuest.SetYmm(g.Cpu, 3, Pattern, Pattern, Pattern, Pattern);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x4040_0000, 0, 0, 0 }, AvxGuest.Ymm(g.Cpu, 3));
    }

    [TestMethod]
    [DataRow(0x01, true, false, DisplayName = "LT_OS: false on NaN, IE on QNaN")]
    [DataRow(0x11, false, false, DisplayName = "LT_OQ: false on NaN, quiet")]
    [DataRow(0x08, false, true, DisplayName = "EQ_UQ: true on NaN, quiet")]
    [DataRow(0x18, true, true, DisplayName = "EQ_US: true on NaN, IE")]
    [DataRow(0x0B, false, false, DisplayName = "FALSE_OQ")]
    [DataRow(0x1F, true, true, DisplayName = "TRUE_US")]
    [DataRow(0x09, true, true, DisplayName = "NGE_US: true on NaN")]
    [DataRow(0x1D, false, false, DisplayName = "GE_OQ: false on NaN, quiet")]
    public void VcmppsPredicatesOnAQuietNaN(int predicate, bool signals, bool result)
    {
        using var g = AvxGuest.Long(a => a.vcmpps(ymm0, ymm1, ymm2, (byte)predicate));
        AvxGuest.SetSingles(g.Cpu, 1, 1, 1, 1, 1, 1, 1, 1, float.NaN);
        AvxGuest.SetSingles(g.Cpu, 2, 2, 2, 2, 2, 2, 2, 2, 2);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(result ? 0xFFFF_FFFFUL : 0, SimdGuest.Qword(g.Cpu, 0, 3) >> 32, "lane 7 (NaN)");
        Assert.AreEqual(signals, (g.Cpu.Mxcsr & 1) != 0, "MXCSR.IE");
    }

    [TestMethod]
    public void VcmppsOrderedPredicatesOnNumbers()
    {
        // GT_OS (0Eh): 3 > 2 in lane 0, 1 > 2 false in lane 1.
        using var g = AvxGuest.Long(a => a.vcmpps(xmm0, xmm1, xmm2, 0x0E));
        AvxGuest.SetSingles(g.Cpu, 1, 3, 1);
        AvxGuest.SetSingles(g.Cpu, 2, 2, 2);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(0xFFFF_FFFFUL, SimdGuest.Qword(g.Cpu, 0, 0));
    }

    [TestMethod]
    public void MaskedLoadDoesNotFaultOnUnselectedElements()
    {
        // Elements 4–7 of the 32 bytes at 5FFFF0h lie in the unmapped page at 600000h.
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rdi, UnmappedBase - 16);
            a.vmaskmovps(ymm0, ymm1, __ymmword_ptr[rdi]);
        });
        UnmapThirdLargePage(g);
        g.Memory.Write(UnmappedBase - 16, 8, 0x4444_4444_3333_3333);
        g.Memory.Write(UnmappedBase - 8, 8, 0x2222_2222_1111_1111);
        AvxGuest.SetYmm(g.Cpu, 1, 0x8000_0000_0000_0000, 0x0000_0000_8000_0000, 0, 0);
        AvxGuest.SetYmm(g.Cpu, 0, Pattern, Pattern, Pattern, Pattern);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x4444_4444_0000_0000, 0x1111_1111, 0, 0 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void MaskedLoadFaultsOnASelectedElement()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rdi, UnmappedBase - 16);
            a.vmaskmovps(ymm0, ymm1, __ymmword_ptr[rdi]);
        });
        UnmapThirdLargePage(g);
        AvxGuest.SetYmm(g.Cpu, 1, 0, 0, 0x8000_0000_0000_0000, 0);
        AvxGuest.SetYmm(g.Cpu, 0, Pattern, Pattern, Pattern, Pattern);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        CollectionAssert.AreEqual(new ulong[] { Pattern, Pattern, Pattern, Pattern }, AvxGuest.Ymm(g.Cpu, 0), "destination unwritten");
    }

    [TestMethod]
    public void MaskedStoreWritesOnlySelectedElements()
    {
        using var g = AvxGuest.Long(a => a.vmaskmovpd(__xmmword_ptr[rsi], xmm1, xmm2));
        g.Memory.Write(SimdGuest.Data, 8, Pattern);
        g.Memory.Write(SimdGuest.Data + 8, 8, Pattern);
        AvxGuest.SetYmm(g.Cpu, 1, 0, 0x8000_0000_0000_0000);
        AvxGuest.SetYmm(g.Cpu, 2, 0xAAAA, 0xBBBB);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(Pattern, g.Memory.Read(SimdGuest.Data, 8));
        Assert.AreEqual(0xBBBBUL, g.Memory.Read(SimdGuest.Data + 8, 8));
    }

    [TestMethod]
    public void MaskedStoreFaultLeavesMemoryAsItWas()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rdi, UnmappedBase - 16);
            a.vmaskmovps(__ymmword_ptr[rdi], ymm1, ymm2);
        });
        UnmapThirdLargePage(g);
        g.Memory.Write(UnmappedBase - 16, 8, Pattern);
        AvxGuest.SetYmm(g.Cpu, 1, 0x8000_0000_8000_0000, 0, 0, 0x8000_0000_0000_0000);
        AvxGuest.SetYmm(g.Cpu, 2, 0xAAAA_AAAA_BBBB_BBBB, 0, 0, 0);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(Pattern, g.Memory.Read(UnmappedBase - 16, 8), "the selected mapped elements were not written either");
    }

    [TestMethod]
    public void VtestpsSetsZfAndCfFromSignBits()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vtestps(ymm1, ymm2);
            a.setz(al);
            a.setc(bl);
        });
        // ymm2 AND ymm1 has no sign bit set (ZF = 1); ymm2 AND NOT ymm1 has one in lane 7 (CF = 0).
        AvxGuest.SetYmm(g.Cpu, 1, 0x8000_0000, 0, 0, 0);
        AvxGuest.SetYmm(g.Cpu, 2, 0x7FFF_FFFF, 0, 0, 0x8000_0000_0000_0000);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(1UL, g.Cpu.Rax & 0xFF, "ZF");
        Assert.AreEqual(0UL, g.Cpu.Rbx & 0xFF, "CF");
    }

    [TestMethod]
    public void VzeroupperAndVzeroall()
    {
        using (var g = AvxGuest.Long(a => a.vzeroupper()))
        {
            for (var i = 0; i < 16; i++) AvxGuest.SetYmm(g.Cpu, i, Pattern, (ulong)i, Pattern, Pattern);
            SimdGuest.RunToEnd(g);
            for (var i = 0; i < 16; i++) CollectionAssert.AreEqual(new ulong[] { Pattern, (ulong)i, 0, 0 }, AvxGuest.Ymm(g.Cpu, i), $"ymm{i}");
        }
        using (var g = AvxGuest.Long(a => a.vzeroall()))
        {
            for (var i = 0; i < 16; i++) AvxGuest.SetYmm(g.Cpu, i, Pattern, Pattern, Pattern, Pattern);
            SimdGuest.RunToEnd(g);
            for (var i = 0; i < 16; i++) CollectionAssert.AreEqual(new ulong[] { 0, 0, 0, 0 }, AvxGuest.Ymm(g.Cpu, i), $"ymm{i}");
        }
    }

    [TestMethod]
    public void Vperm2f128SelectsAndZeroesHalves()
    {
        // imm8 = 83h: low half = src2.high (3), high half zeroed (bit 7).
        using var g = AvxGuest.Long(a => a.vperm2f128(ymm0, ymm1, ymm2, 0x83));
        AvxGuest.SetYmm(g.Cpu, 1, 1, 2, 3, 4);
        AvxGuest.SetYmm(g.Cpu, 2, 5, 6, 7, 8);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 7, 8, 0, 0 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void InsertAndExtract128()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vinsertf128(ymm0, ymm1, xmm2, 1);
            a.vextractf128(xmm3, ymm1, 1);
        });
        AvxGuest.SetYmm(g.Cpu, 1, 1, 2, 3, 4);
        AvxGuest.SetYmm(g.Cpu, 2, 5, 6, 7, 8);
        AvxGuest.SetYmm(g.Cpu, 3, Pattern, Pattern, Pattern, Pattern);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 1, 2, 5, 6 }, AvxGuest.Ymm(g.Cpu, 0));
        CollectionAssert.AreEqual(new ulong[] { 3, 4, 0, 0 }, AvxGuest.Ymm(g.Cpu, 3), "an XMM destination of VEXTRACTF128 has bits 255:128 zeroed");
    }

    [TestMethod]
    public void BroadcastAndPermuteSingles()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vbroadcastss(ymm0, __dword_ptr[rsi]);
            a.vpermilps(ymm1, ymm2, 0b00_01_10_11);
        });
        g.Memory.Write(SimdGuest.Data, 4, 0x3F80_0000);
        AvxGuest.SetSingles(g.Cpu, 2, 0, 1, 2, 3, 4, 5, 6, 7);
        SimdGuest.RunToEnd(g);
        for (var i = 0; i < 8; i++) Assert.AreEqual(1f, AvxGuest.Single(g.Cpu, 0, i), $"broadcast lane {i}");
        float[] permuted = [3, 2, 1, 0, 7, 6, 5, 4];
        for (var i = 0; i < 8; i++) Assert.AreEqual(permuted[i], AvxGuest.Single(g.Cpu, 1, i), $"permuted lane {i}");
    }

    [TestMethod]
    public void Vcvtpd2psFromYmmWritesAnXmm()
    {
        using var g = AvxGuest.Long(a => a.vcvtpd2ps(xmm0, ymm1));
        for (var i = 0; i < 4; i++) BitConverter.TryWriteBytes(g.Cpu.VectorRegister(1)[(i * 8)..], (double)(i + 1) / 2);
        AvxGuest.SetYmm(g.Cpu, 0, Pattern, Pattern, Pattern, Pattern);
        SimdGuest.RunToEnd(g);
        float[] expected = [0.5f, 1, 1.5f, 2, 0, 0, 0, 0];
        for (var i = 0; i < 8; i++) Assert.AreEqual(expected[i], AvxGuest.Single(g.Cpu, 0, i), $"lane {i}");
    }

    [TestMethod]
    public void UnmaskedExceptionInTheLastLaneWritesNothing()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(__dword_ptr[rsi], 0x1F80 & ~0x200);
            a.vldmxcsr(__dword_ptr[rsi]);
            a.vdivps(ymm0, ymm1, ymm2);
        });
        AvxGuest.SetSingles(g.Cpu, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        AvxGuest.SetSingles(g.Cpu, 2, 1, 1, 1, 1, 1, 1, 1, 0);
        AvxGuest.SetYmm(g.Cpu, 0, Pattern, Pattern, Pattern, Pattern);
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector(), "ZE unmasked, CR4.OSXMMEXCPT = 1");
        CollectionAssert.AreEqual(new ulong[] { Pattern, Pattern, Pattern, Pattern }, AvxGuest.Ymm(g.Cpu, 0));
        Assert.AreEqual(4u, g.Cpu.Mxcsr & 0x3F, "ZE flagged");
    }

    [TestMethod]
    public void VexHandlersAllocateNothing_DesignNoAllocationPerInstruction()
    {
        // DESIGN.md: no allocation on any per-instruction path: what a run allocates (decoding, the run loop) does not grow with the iterations.
        static long Allocated(int iterations)
        {
            using var g = AvxGuest.Long(a =>
            {
                var loop = a.CreateLabel();
                a.mov(ecx, iterations);
                a.Label(ref loop);
                a.vaddps(ymm0, ymm1, ymm2);
                a.vpaddb(ymm3, ymm4, ymm5);
                a.vmovups(ymm6, __ymmword_ptr[rsi]);
                a.vmovups(__ymmword_ptr[rsi + 32], ymm6);
                a.vcmpps(ymm7, ymm0, ymm1, 0x11);
                a.vmaskmovps(ymm8, ymm9, __ymmword_ptr[rsi]);
                a.vpermilps(ymm10, ymm11, 0x1B);
                a.vcvtpd2ps(xmm12, ymm13);
                a.vhaddps(ymm14, ymm15, ymm0);
                a.vmovss(xmm1, xmm2, xmm3);
                a.vzeroupper();
                a.dec(ecx);
                a.jnz(loop);
            });
            var before = GC.GetAllocatedBytesForCurrentThread();
            SimdGuest.RunToEnd(g);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The least of three runs: the JIT's tiering allocates on the running thread now and then.
        static long Least(int iterations) => Enumerable.Range(0, 3).Min(_ => Allocated(iterations));
        var few = Least(2_000);
        var many = Least(60_000);
        Assert.IsTrue(many - few < 1_000, $"2000 iterations allocate {few} bytes, 60 000 allocate {many}");
    }
}
