using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// XGETBV and XSETBV (SDM vol. 2, XGETBV/XSETBV; vol. 1, 13.3): #UD without CR4.OSXSAVE; XSETBV is #GP(0) at CPL &gt; 0,
/// for ECX ≠ 0, with XCR0[0] = 0, with AVX but not SSE, and with a bit outside the supported components; XCR0 is 1
/// after reset; CPUID.01H:ECX.OSXSAVE[27] follows CR4.OSXSAVE.
/// </summary>
[TestClass]
public sealed class ExtendedControlRegisterTests
{
    private static GuestRunner WithOsxsave(Action<Iced.Intel.Assembler> code, bool osxsave = true)
    {
        var g = GuestRunner.Long(a => { code(a); a.hlt(); });
        if (osxsave) g.Cpu.LoadControlState(g.Cpu.Cr0, g.Cpu.Cr3, g.Cpu.Cr4 | Cr4.OSXSAVE, g.Cpu.Efer);
        return g;
    }

    [TestMethod]
    public void ResetValueIsX87Only()
    {
        using var g = WithOsxsave(a => { a.mov(rdx, -1); a.xor(ecx, ecx); a.xgetbv(); });
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(1UL, g.Cpu.Rax);
        Assert.AreEqual(0UL, g.Cpu.Rdx, "EDX:EAX, the upper halves of RAX and RDX cleared");
    }

    [TestMethod]
    public void SetThenGetEnablesSseAndAvx()
    {
        using var g = WithOsxsave(a =>
        {
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            a.xor(eax, eax);
            a.xgetbv();
        });
        Assert.AreEqual(-1, g.RunToVector());
        Assert.AreEqual(7UL, g.Cpu.Rax);
        Assert.AreEqual(7UL, g.Cpu.Xcr0);
    }

    [TestMethod]
    public void WithoutOsxsaveBothAreUndefined()
    {
        using (var g = WithOsxsave(a => { a.xor(ecx, ecx); a.xgetbv(); }, osxsave: false))
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        using (var g = WithOsxsave(a => { a.xor(ecx, ecx); a.mov(eax, 1); a.xor(edx, edx); a.xsetbv(); }, osxsave: false))
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    [DataRow(3u, 1u, 0u, DisplayName = "ECX = 1: XINUSE is read-only")]
    [DataRow(0u, 0u, 0u, DisplayName = "EAX = 0: x87 state cannot be disabled")]
    [DataRow(5u, 0u, 0u, DisplayName = "AVX without SSE")]
    [DataRow(0xFu, 0u, 0u, DisplayName = "bit 3 (MPX BNDREGS) unsupported")]
    [DataRow(3u, 0u, 1u, DisplayName = "EDX bit 0 (XCR0 bit 32) reserved")]
    public void InvalidValuesFault(uint low, uint index, uint high)
    {
        using var g = WithOsxsave(a => a.xsetbv());
        g.Cpu.Rax = low;
        g.Cpu.Rcx = index;
        g.Cpu.Rdx = high;
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(1UL, g.Cpu.Xcr0, "XCR0 unchanged");
    }

    [TestMethod]
    public void XgetbvOfAnUnsupportedIndexFaults()
    {
        using var g = WithOsxsave(a => { a.mov(ecx, 2); a.xgetbv(); });
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
    }

    [TestMethod]
    public void XsetbvAtCpl3FaultsButXgetbvRuns()
    {
        using (var g = WithOsxsave(a => { a.xor(ecx, ecx); a.mov(eax, 3); a.xor(edx, edx); a.xsetbv(); }))
        {
            g.EnterUser32(GuestRunner.CodeAddress, 0x60000);
            g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        }
        using (var g = WithOsxsave(a => { a.xor(ecx, ecx); a.xgetbv(); a.int3(); }))
        {
            g.EnterUser32(GuestRunner.CodeAddress, 0x60000);
            g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
            Assert.AreEqual((int)ExceptionVector.BP, g.RunToVector());
            Assert.AreEqual(1UL, g.Cpu.Rax);
        }
    }

    [TestMethod]
    public void CpuidOsxsaveFollowsCr4()
    {
        using var g = WithOsxsave(a => { }, osxsave: false);
        g.Cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        Assert.AreEqual(1u << 26, ecx & (3u << 26), "XSAVE announced, OSXSAVE clear");
        g.Cpu.LoadControlState(g.Cpu.Cr0, g.Cpu.Cr3, g.Cpu.Cr4 | Cr4.OSXSAVE, g.Cpu.Efer);
        g.Cpu.Cpuid(1, 0, out _, out _, out ecx, out _);
        Assert.AreEqual(3u << 26, ecx & (3u << 26));
    }
}
