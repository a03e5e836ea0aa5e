using System.Text;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Simd.AvxGuest;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The VEX forms of SSSE3 … PCLMULQDQ by the SDM's operation sections (vol. 2): VEX.256 forms per 128-bit lane
/// (VPSHUFB, VPALIGNR, VDPPS, VMPSADBW with its upper-lane imm8 bits), the /is4 mask register, the three-operand
/// merges, the widening VPMOVSX/ZX to YMM, and the zeroed bits 255:128 of every VEX.128 destination.
/// </summary>
[TestClass]
public sealed class AvxSse4Tests
{
    private const ulong Garbage = 0xDEAD_BEEF_DEAD_BEEF;

    [TestMethod]
    public void VpshufbAndVpalignrYmmWorkInEachLane()
    {
        using var g = Long(a =>
        {
            a.vpshufb(ymm0, ymm1, ymm2);
            a.vpalignr(ymm3, ymm4, ymm5, 8);
        });
        var c = g.Cpu;
        SetYmm(c, 1, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908, 0x1716_1514_1312_1110, 0x1F1E_1D1C_1B1A_1918);
        SetYmm(c, 2, 0x0F0F_0F0F_0F0F_800F, 0x0F0F_0F0F_0F0F_0F0F, 0x0F0F_0F0F_0F0F_0F00, 0x0F0F_0F0F_0F0F_0F0F);
        SetYmm(c, 4, 0xA0, 0xA1, 0xA2, 0xA3);
        SetYmm(c, 5, 0xB0, 0xB1, 0xB2, 0xB3);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x0F0F_0F0F_0F0F_000F, 0x0F0F_0F0F_0F0F_0F0F, 0x1F1F_1F1F_1F1F_1F10, 0x1F1F_1F1F_1F1F_1F1F }, Ymm(c, 0),
            "indices select within their own lane");
        CollectionAssert.AreEqual(new ulong[] { 0xB1, 0xA0, 0xB3, 0xA2 }, Ymm(c, 3));
    }

    [TestMethod]
    public void BlendsYmmImmediateAndIs4Mask()
    {
        using var g = Long(a =>
        {
            a.vblendps(ymm0, ymm1, ymm2, 0x5A);
            a.vblendvps(ymm5, ymm1, ymm2, ymm3);
            a.vpblendvb(xmm4, xmm1, xmm2, xmm3);
        });
        var c = g.Cpu;
        SetYmm(c, 1, 0x1111_1111_1111_1111, 0x1111_1111_1111_1111, 0x1111_1111_1111_1111, 0x1111_1111_1111_1111);
        SetYmm(c, 2, 0x2222_2222_2222_2222, 0x2222_2222_2222_2222, 0x2222_2222_2222_2222, 0x2222_2222_2222_2222);
        SetYmm(c, 3, 0x8000_0000_0000_0000, 0, 0, 0xFFFF_FFFF_0000_0000);
        SetYmm(c, 4, Garbage, Garbage, Garbage, Garbage);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x2222_2222_1111_1111, 0x2222_2222_1111_1111, 0x1111_1111_2222_2222, 0x1111_1111_2222_2222 }, Ymm(c, 0),
            "imm8[3:0] for the lower lane, imm8[7:4] for the upper");
        CollectionAssert.AreEqual(new ulong[] { 0x2222_2222_1111_1111, 0x1111_1111_1111_1111, 0x1111_1111_1111_1111, 0x2222_2222_1111_1111 }, Ymm(c, 5));
        CollectionAssert.AreEqual(new ulong[] { 0x2211_1111_1111_1111, 0x1111_1111_1111_1111, 0, 0 }, Ymm(c, 4), "the mask is imm8[7:4]'s register; VEX.128 zeroes 255:128");
    }

    [TestMethod]
    public void VroundpsAndVdppsYmm()
    {
        using var g = Long(a =>
        {
            a.vroundps(ymm0, ymm1, 1);
            a.vdpps(ymm2, ymm3, ymm4, 0xF1);
            a.vroundss(xmm5, xmm6, xmm7, 3);
        });
        var c = g.Cpu;
        SetSingles(c, 1, 1.5f, -1.5f, 2.5f, -0.5f, 7.9f, -7.9f, 0.1f, 3);
        SetSingles(c, 3, 1, 2, 3, 4, 5, 6, 7, 8);
        SetSingles(c, 4, 1, 1, 1, 1, 1, 1, 1, 1);
        SetYmm(c, 5, Garbage, Garbage, Garbage, Garbage);
        SetSingles(c, 6, 9, 8, 7, 6, 5);
        SetSingles(c, 7, -2.75f, 100);
        SimdGuest.RunToEnd(g);
        float[] rounded = [1, -2, 2, -1, 7, -8, 0, 3];
        for (var i = 0; i < 8; i++) Assert.AreEqual(rounded[i], Single(c, 0, i), $"lane {i}, rounded down");
        float[] dot = [10, 0, 0, 0, 26, 0, 0, 0];
        for (var i = 0; i < 8; i++) Assert.AreEqual(dot[i], Single(c, 2, i), $"lane {i}: each 128-bit lane's own dot product");
        CollectionAssert.AreEqual(new ulong[] { SimdGuest.Pair(-2, 8), SimdGuest.Pair(7, 6), 0, 0 }, Ymm(c, 5), "VEX.vvvv's lanes 1–3, bits 255:128 zeroed");
    }

    [TestMethod]
    public void VptestCoversTheVectorLength()
    {
        using var g = Long(a =>
        {
            a.vptest(ymm0, ymm1);
            a.pushfq();
            a.pop(rax);
            a.vptest(xmm0, xmm1);
            a.pushfq();
            a.pop(rbx);
        });
        var c = g.Cpu;
        SetYmm(c, 0, 0, 0, 0, 1);
        SetYmm(c, 1, 0, 0, 0, 3);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(0UL, c.Rax & Rflags.Status, "bit 192 in both: ZF = 0; bit 193 of the source only: CF = 0");
        Assert.AreEqual(Rflags.ZF | Rflags.CF, c.Rbx & Rflags.Status, "the low 128 bits are zero");
    }

    [TestMethod]
    public void VpcmpistrmZeroesTheUpperHalfOfYmm0()
    {
        using var g = Long(a => a.vpcmpistrm(xmm1, xmm2, 0x40));
        var c = g.Cpu;
        SetYmm(c, 0, Garbage, Garbage, Garbage, Garbage);
        Encoding.ASCII.GetBytes("aeiou").CopyTo(c.VectorRegister(1));
        Encoding.ASCII.GetBytes("hello").CopyTo(c.VectorRegister(2));
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x0000_00FF_0000_FF00, 0, 0, 0 }, Ymm(c, 0));
    }

    [TestMethod]
    public void VaesencAndVpclmulqdqAreVex128()
    {
        using var g = Long(a =>
        {
            a.vaesenc(xmm0, xmm1, xmm2);
            a.vpclmulqdq(xmm3, xmm4, xmm5, 0x11);
        });
        var c = g.Cpu;
        SetYmm(c, 0, Garbage, Garbage, Garbage, Garbage);
        SetYmm(c, 1, 0x2BE2_F4A0_BEE3_3D19, 0x0848_F8E9_2A8D_C69A, Garbage, Garbage);
        SetYmm(c, 2, 0xB12C_5488_17FE_FAA0, 0x0576_6C2A_3939_A323);
        SetYmm(c, 3, Garbage, Garbage, Garbage, Garbage);
        SetYmm(c, 4, 0, 0x8000_0000_0000_0000);
        SetYmm(c, 5, 0, 2);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x2B35_9F68_F27F_9CA4, 0x4950_6A02_43EA_5B6B, 0, 0 }, Ymm(c, 0), "FIPS-197 appendix B, round 1");
        CollectionAssert.AreEqual(new ulong[] { 0, 1, 0, 0 }, Ymm(c, 3), "x^63 · x");
    }

    [TestMethod]
    public void VpmovsxAndVpmovzxWidenToYmm()
    {
        using var g = Long(a =>
        {
            a.vpmovsxbw(ymm0, __xmmword_ptr[rsi]);
            a.vpmovzxbq(ymm1, __dword_ptr[rsi]);
            a.vpmovsxdq(ymm2, xmm3);
        });
        var c = g.Cpu;
        g.Memory.Write(SimdGuest.Data, 8, 0x03FE_0200_01FF_7F80);
        g.Memory.Write(SimdGuest.Data + 8, 8, 0x8000_0000_0000_00FF);
        SetYmm(c, 3, 0x0000_0002_FFFF_FFFF, 0x0000_0004_FFFF_FFFD, Garbage, Garbage);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x0001_FFFF_007F_FF80, 0x0003_FFFE_0002_0000, 0x0000_0000_0000_FFFF, 0xFF80_0000_0000_0000 }, Ymm(c, 0));
        CollectionAssert.AreEqual(new ulong[] { 0x80, 0x7F, 0xFF, 0x01 }, Ymm(c, 1));
        CollectionAssert.AreEqual(new ulong[] { ulong.MaxValue, 2, unchecked((ulong)-3L), 4 }, Ymm(c, 2));
    }

    [TestMethod]
    public void VpmulldVpmuldqAndVmpsadbwYmm()
    {
        using var g = Long(a =>
        {
            a.vpmulld(ymm0, ymm1, ymm2);
            a.vpmuldq(ymm3, ymm4, ymm5);
            a.vmpsadbw(ymm6, ymm7, ymm8, 0x28);
        });
        var c = g.Cpu;
        SetYmm(c, 1, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001, 0x0001_0001_0001_0001);
        SetYmm(c, 2, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000);
        SetYmm(c, 4, 0x1234_FFFF_FFFE, 3, 0xFFFF_FFFC, 5);
        SetYmm(c, 5, 3, 3, 3, 3);
        SetYmm(c, 7, 0, 0, 0x0706_0504_0302_0100, 0x0F0E_0D0C_0B0A_0908);
        SetYmm(c, 8, 0x0101_0101_0101_0101, 0x0101_0101_0101_0101, 0x0403_0201_FFFF_FFFF, ulong.MaxValue);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x0001_0000_0001_0000, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000, 0x0001_0000_0001_0000 }, Ymm(c, 0));
        CollectionAssert.AreEqual(new ulong[] { unchecked((ulong)-6L), 9, unchecked((ulong)-12L), 15 }, Ymm(c, 3));
        CollectionAssert.AreEqual(new ulong[] { 0x0004_0004_0004_0004, 0x0004_0004_0004_0004, 0x0018_0014_0010_000C, 0x0028_0024_0020_001C }, Ymm(c, 6),
            "the upper lane's offsets from imm8[5:3]");
    }

    [TestMethod]
    public void VpinsrbMergesVvvvAndExtractionsReadXmm()
    {
        using var g = Long(a =>
        {
            a.mov(eax, 0xAB);
            a.vpinsrb(xmm0, xmm1, eax, 3);
            a.vpextrq(rbx, xmm1, 1);
            a.vinsertps(xmm2, xmm1, xmm1, 0x30);
        });
        var c = g.Cpu;
        SetYmm(c, 0, Garbage, Garbage, Garbage, Garbage);
        SetYmm(c, 1, 0x1111_1111_1111_1111, 0x2222_2222_2222_2222, 0x3333_3333_3333_3333, 0x4444_4444_4444_4444);
        SetYmm(c, 2, Garbage, Garbage, Garbage, Garbage);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x1111_1111_AB11_1111, 0x2222_2222_2222_2222, 0, 0 }, Ymm(c, 0));
        Assert.AreEqual(0x2222_2222_2222_2222UL, c.Rbx);
        CollectionAssert.AreEqual(new ulong[] { 0x1111_1111_1111_1111, 0x1111_1111_2222_2222, 0, 0 }, Ymm(c, 2), "lane 0 of the source to lane 3");
    }

    [TestMethod]
    public void AnUnmaskedExceptionInTheUpperLaneLeavesTheDestination()
    {
        using var g = Long(a => a.vroundps(ymm0, ymm1, 0));
        var c = g.Cpu;
        SetSingles(c, 1, 1, 2, 3, 4, 5, 6, 7, 7.5f);
        SetYmm(c, 0, Garbage, Garbage, Garbage, Garbage);
        c.Mxcsr = 0x1F80 & ~0x1000u;
        Assert.AreEqual((int)ExceptionVector.XM, g.RunToVector(), "7.5 rounds inexactly with PE unmasked");
        CollectionAssert.AreEqual(new ulong[] { Garbage, Garbage, Garbage, Garbage }, Ymm(c, 0));
        Assert.AreEqual(0x20u, c.Mxcsr & 0x3F);
    }

    [TestMethod]
    public void HandlersAllocateNothing_DesignNoAllocationPerInstruction()
    {
        // DESIGN.md: no allocation on any per-instruction path: what a run allocates does not grow with the iterations.
        static long Allocated(int iterations)
        {
            using var g = Long(a =>
            {
                var loop = a.CreateLabel();
                a.mov(edi, iterations);
                a.Label(ref loop);
                a.pshufb(xmm0, xmm1);
                a.phaddw(mm0, mm1);
                a.pcmpestri(xmm2, xmm3, 0x0C);
                a.pcmpistrm(xmm2, __xmmword_ptr[rsi], 0x44);
                a.dpps(xmm4, xmm5, 0xFF);
                a.roundps(xmm6, xmm7, 1);
                a.aesenc(xmm8, xmm9);
                a.aeskeygenassist(xmm10, xmm9, 0x1B);
                a.pclmulqdq(xmm11, xmm12, 0x11);
                a.crc32(rax, __qword_ptr[rsi]);
                a.pmovsxbw(xmm13, __qword_ptr[rsi]);
                a.vpblendvb(ymm14, ymm15, ymm1, ymm2);
                a.vpmovzxbd(ymm3, xmm4);
                a.vdpps(ymm5, ymm6, ymm7, 0xF1);
                a.vmpsadbw(ymm8, ymm9, ymm10, 0x2D);
                a.vpinsrb(xmm11, xmm12, eax, 5);
                a.dec(edi);
                a.jnz(loop);
            });
            var before = GC.GetAllocatedBytesForCurrentThread();
            SimdGuest.RunToEnd(g);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }
        // The least of three runs: the JIT's tiering allocates on the running thread now and then.
        static long Least(int iterations) => Enumerable.Range(0, 3).Min(_ => Allocated(iterations));
        var few = Least(2_000);
        var many = Least(40_000);
        Assert.IsTrue(many - few < 1_000, $"2000 iterations allocate {few} bytes, 40 000 allocate {many}");
    }
}
