using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The rules every VEX-encoded instruction follows (SDM vol. 2, 2.3 and 2.8, table 2-20; vol. 1, 14.3): #UD without
/// CR4.OSXSAVE or with XCR0[2:1] ≠ 11b, in real-address mode and after a 66/F2/F3/REX/LOCK prefix or with a VEX.L or
/// VEX.vvvv the instruction does not allow; #NM with CR0.TS; CR0.EM not consulted; a VEX.128 destination has bits
/// 255:128 zeroed where the legacy form leaves them; only the aligned moves check alignment.
/// </summary>
[TestClass]
public sealed class VexRuleTests
{
    private const ulong Upper = 0xDEAD_BEEF_0123_4567;

    [TestMethod]
    public void Vaddps256AddsAllEightLanes()
    {
        using var g = AvxGuest.Long(a => a.vaddps(ymm0, ymm1, ymm2));
        AvxGuest.SetSingles(g.Cpu, 1, 1, 2, 3, 4, 5, 6, 7, 8);
        AvxGuest.SetSingles(g.Cpu, 2, 0.5f, 0.25f, -3, 100, 1e10f, -6, 0.125f, 8);
        SimdGuest.RunToEnd(g);
        float[] expected = [1.5f, 2.25f, 0, 104, 1e10f + 5, 0, 7.125f, 16];
        for (var i = 0; i < 8; i++) Assert.AreEqual(expected[i], AvxGuest.Single(g.Cpu, 0, i), $"lane {i}");
    }

    [TestMethod]
    public void Vex128ZeroesTheUpperHalfAndLegacyKeepsIt()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.vpaddb(xmm0, xmm1, xmm2);
            a.paddb(xmm3, xmm2);
        });
        AvxGuest.SetYmm(g.Cpu, 0, 0, 0, Upper, Upper);
        AvxGuest.SetYmm(g.Cpu, 1, 0x0102, 0, Upper, Upper);
        AvxGuest.SetYmm(g.Cpu, 2, 0x0101, 0, Upper, Upper);
        AvxGuest.SetYmm(g.Cpu, 3, 0x0102, 0, Upper, Upper);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0x0203, 0, 0, 0 }, AvxGuest.Ymm(g.Cpu, 0));
        CollectionAssert.AreEqual(new ulong[] { 0x0203, 0, Upper, Upper }, AvxGuest.Ymm(g.Cpu, 3));
    }

    [TestMethod]
    public void Vpaddb256AddsEachHalf()
    {
        using var g = AvxGuest.Long(a => a.vpaddb(ymm0, ymm1, ymm2));
        AvxGuest.SetYmm(g.Cpu, 1, 0xFF, 1, 0x7F00, 0xFFFF_FFFF_FFFF_FFFF);
        AvxGuest.SetYmm(g.Cpu, 2, 0x01, 2, 0x0180, 0x0101_0101_0101_0101);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 0, 3, 0x8080, 0 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void WithoutOsxsaveVexIsUndefined()
    {
        using var g = AvxGuest.Long(a => a.vaddps(ymm0, ymm1, ymm2), cr4Bits: Cr4.OSFXSR | Cr4.OSXMMEXCPT);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void WithoutXcr0AvxStateVexIsUndefined()
    {
        using var g = AvxGuest.Long(a => a.vaddps(xmm0, xmm1, xmm2), xcr0: 3);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void TaskSwitchedGivesDeviceNotAvailable()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rax, cr0);
            a.or(eax, (int)Cr0.TS);
            a.mov(cr0, rax);
            a.vaddps(xmm0, xmm1, xmm2);
        });
        Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector());
    }

    [TestMethod]
    public void EmulationBitIsNotConsulted()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rax, cr0);
            a.or(eax, (int)Cr0.EM);
            a.mov(cr0, rax);
            a.vpaddb(xmm0, xmm1, xmm2);
            a.paddb(xmm0, xmm1);
        });
        AvxGuest.SetYmm(g.Cpu, 1, 1);
        AvxGuest.SetYmm(g.Cpu, 2, 2);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector(), "the legacy PADDB is #UD with CR0.EM");
        Assert.AreEqual(3UL, SimdGuest.Qword(g.Cpu, 0, 0), "VPADDB ran");
    }

    [TestMethod]
    public void RealModeVexIsUndefined()
    {
        // C5 F0 58 C2: VADDPS xmm0, xmm1, xmm2 (ModRM.mod = 11, so VEX rather than LDS in 16-bit code).
        using var g = GuestRunner.Real(a =>
        {
            a.mov(eax, cr4);
            a.or(eax, (int)(Cr4.OSFXSR | Cr4.OSXSAVE));
            a.mov(cr4, eax);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            a.db(0xC5, 0xF0, 0x58, 0xC2);
            a.hlt();
        });
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        Assert.AreEqual(7UL, g.Cpu.Xcr0, "the set-up ran");
    }

    [TestMethod]
    [DataRow((byte)0x66, DisplayName = "66")]
    [DataRow((byte)0xF2, DisplayName = "F2")]
    [DataRow((byte)0xF3, DisplayName = "F3")]
    [DataRow((byte)0x40, DisplayName = "REX")]
    [DataRow((byte)0xF0, DisplayName = "LOCK")]
    public void PrefixBeforeVexIsUndefined(byte prefix)
    {
        using var g = AvxGuest.Long(a => a.db(prefix, 0xC5, 0xF0, 0x58, 0xC2));
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void SegmentAndAddressSizePrefixesAreAllowed()
    {
        using var g = AvxGuest.Long(a => a.db(0x2E, 0x67, 0xC5, 0xF0, 0x58, 0xC2));
        AvxGuest.SetSingles(g.Cpu, 1, 1);
        AvxGuest.SetSingles(g.Cpu, 2, 2);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual(3f, AvxGuest.Single(g.Cpu, 0, 0));
    }

    [TestMethod]
    [DataRow(new byte[] { 0xC5, 0xFD, 0x6E, 0xC0 }, DisplayName = "VMOVD with VEX.L = 1")]
    [DataRow(new byte[] { 0xC5, 0xF1, 0x6E, 0xC0 }, DisplayName = "VMOVD with VEX.vvvv = 1110b")]
    [DataRow(new byte[] { 0xC5, 0xF0, 0x28, 0xC1 }, DisplayName = "VMOVAPS with VEX.vvvv = 1110b")]
    public void DisallowedVexFieldsAreUndefined(byte[] code)
    {
        using var g = AvxGuest.Long(a => a.db(code));
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void ArithmeticMemoryOperandsMayBeUnaligned()
    {
        using var g = AvxGuest.Long(a => a.vpaddb(ymm0, ymm1, __ymmword_ptr[rsi + 3]));
        g.Memory.Write(SimdGuest.Data + 3, 8, 0x01);
        g.Memory.Write(SimdGuest.Data + 3 + 24, 8, 0x02);
        AvxGuest.SetYmm(g.Cpu, 1, 1, 0, 0, 1);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 2, 0, 0, 3 }, AvxGuest.Ymm(g.Cpu, 0));
    }

    [TestMethod]
    public void AlignedMovesCheckTheVectorLength()
    {
        using (var g = AvxGuest.Long(a => a.vmovaps(ymm0, __ymmword_ptr[rsi + 16])))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "VMOVAPS ymm: 32-byte alignment");
        using (var g = AvxGuest.Long(a => a.vmovaps(xmm0, __xmmword_ptr[rsi + 16])))
            SimdGuest.RunToEnd(g);
        using (var g = AvxGuest.Long(a => a.vmovdqa(__ymmword_ptr[rsi + 8], ymm0)))
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector(), "VMOVDQA m256: 32-byte alignment");
        using (var g = AvxGuest.Long(a => a.vmovups(ymm0, __ymmword_ptr[rsi + 1])))
            SimdGuest.RunToEnd(g);
    }

    [TestMethod]
    public void VmaskmovdquStoresTheSelectedBytesAtRdi()
    {
        using var g = AvxGuest.Long(a =>
        {
            a.mov(rdi, rsi);
            a.vmaskmovdqu(xmm1, xmm2);
        });
        g.Memory.Write(SimdGuest.Data, 8, Upper);
        g.Memory.Write(SimdGuest.Data + 8, 8, Upper);
        AvxGuest.SetYmm(g.Cpu, 1, 0xAABB_CCDD_EEFF_0011, 0x2233_4455_6677_8899);
        AvxGuest.SetYmm(g.Cpu, 2, 0x0000_0000_0000_80FF, 0x8000_0000_0000_0000);
        SimdGuest.RunToEnd(g);
        Assert.AreEqual((Upper & ~0xFFFFUL) | 0x0011, g.Memory.Read(SimdGuest.Data, 8), "bytes 0 and 1 (mask bytes FFh and 80h)");
        Assert.AreEqual((Upper & 0x00FF_FFFF_FFFF_FFFF) | 0x2200_0000_0000_0000, g.Memory.Read(SimdGuest.Data + 8, 8), "byte 15");
    }

    [TestMethod]
    public void AnUnimplementedVexInstructionMakesTheVexChecksFirst()
    {
        // C4 E2 71 A8 C2: VFMADD213PS xmm0, xmm1, xmm2 (FMA, not part of AVX).
        using (var g = AvxGuest.Long(a => a.db(0xC4, 0xE2, 0x71, 0xA8, 0xC2), cr4Bits: Cr4.OSFXSR | Cr4.OSXMMEXCPT))
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector(), "no OSXSAVE");
        using (var g = AvxGuest.Long(a =>
        {
            a.mov(rax, cr0);
            a.or(eax, (int)Cr0.TS);
            a.mov(cr0, rax);
            a.db(0xC4, 0xE2, 0x71, 0xA8, 0xC2);
        }))
            Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector(), "CR0.TS");
    }

    [TestMethod]
    public void VzeroupperOutside64BitModeLeavesYmm8To15()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, cr4);
            a.or(eax, (int)(Cr4.OSFXSR | Cr4.OSXSAVE));
            a.mov(cr4, eax);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            a.vzeroupper();
            a.hlt();
        });
        for (var i = 0; i < 16; i++) AvxGuest.SetYmm(g.Cpu, i, 1, 2, 3, 4);
        SimdGuest.RunToEnd(g);
        CollectionAssert.AreEqual(new ulong[] { 1, 2, 0, 0 }, AvxGuest.Ymm(g.Cpu, 7));
        CollectionAssert.AreEqual(new ulong[] { 1, 2, 3, 4 }, AvxGuest.Ymm(g.Cpu, 8));
    }

    [TestMethod]
    public void Virtual8086ModeVexIsUndefined()
    {
        // CPL-0 code enables AVX, then IRETs into v86 code at 2000:0100 that runs VADDPS xmm0, xmm1, xmm2 (C5 F0 58 C2).
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, cr4);
            a.or(eax, (int)(Cr4.OSFXSR | Cr4.OSXSAVE));
            a.mov(cr4, eax);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            foreach (var value in new[] { 0, 0, 0, 0, 0x3000, 0x0FF0, (int)(Rflags.VM | Rflags.Reserved1), 0x2000, 0x0100 }) a.push(value);
            a.iretd();
        });
        g.Load(0x20100, [0xC5, 0xF0, 0x58, 0xC2, 0xF4]);
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        Assert.AreEqual(0x100UL, g.Stack(0), "the fault's IP: the VEX instruction in v86 code");
        Assert.AreEqual(7UL, g.Cpu.Xcr0);
    }
}
