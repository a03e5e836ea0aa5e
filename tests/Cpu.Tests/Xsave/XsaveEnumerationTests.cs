using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Xsave.XsaveGuest;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// CPUID leaf 0Dh (SDM vol. 1, 13.2; vol. 2, CPUID, table 3-8) on both vendors and IA32_XSS (MSR 0DA0H): the supported
/// XCR0 bits (x87, SSE, AVX), the XSAVE area sizes (576 = legacy region + header, 832 with AVX), the extensions of
/// sub-leaf 1, AVX's size and offset in sub-leaf 2, no supervisor component so IA32_XSS stays 0.
/// </summary>
[TestClass]
public sealed class XsaveEnumerationTests
{
    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void Leaf0DhDescribesTheComponentsAndSizes(CpuVendor vendor)
    {
        using var g = GuestRunner.Long(a => a.hlt());
        g.Cpu.Vendor = vendor;
        g.Cpu.Cpuid(0, 0, out var max, out _, out _, out _);
        Assert.IsTrue(max >= 0xD, "leaf 0Dh is within the basic leaves");
        g.Cpu.Cpuid(0xD, 0, out var a, out var b, out var c, out var d);
        Assert.AreEqual((7u, 576u, 832u, 0u), (a, b, c, d), "XCR0 = 1: area 576 bytes; the largest 832; supported XCR0 bits 2:0");
        g.Cpu.Xcr0 = 7;
        g.Cpu.Cpuid(0xD, 0, out _, out b, out _, out _);
        Assert.AreEqual(832u, b, "with AVX enabled");
        g.Cpu.Cpuid(0xD, 1, out a, out b, out c, out d);
        Assert.AreEqual(0xFu, a, "XSAVEOPT, XSAVEC, XGETBV with ECX = 1, XSAVES/XRSTORS");
        Assert.AreEqual(832u, b, "compacted size for XCR0 | IA32_XSS");
        Assert.AreEqual((0u, 0u), (c, d), "no IA32_XSS bit supported");
        g.Cpu.Cpuid(0xD, 2, out a, out b, out c, out d);
        Assert.AreEqual((256u, 576u, 0u, 0u), (a, b, c, d), "AVX: 256 bytes at 576, user state, not 64-byte aligned when compacted");
        for (uint sub = 3; sub < 64; sub++)
        {
            g.Cpu.Cpuid(0xD, sub, out a, out b, out c, out d);
            Assert.AreEqual((0u, 0u, 0u, 0u), (a, b, c, d), $"sub-leaf {sub}: no such component");
        }
    }

    [TestMethod]
    public void CpuidReportsTheSizeTheInstructionsUse()
    {
        using var g = Long(a =>
        {
            a.mov(eax, 0xD);
            a.xor(ecx, ecx);
            a.cpuid();
            a.mov(r8, rbx);
            Mask(a, ulong.MaxValue);
            a.xsave64(__[rsi]);
        });
        XsaveGuest.FillState(g.Cpu);
        RunToEnd(g);
        Assert.AreEqual(832UL, g.Cpu.GetGpr(8));
        AssertUntouched(g, 832, 1024, "bytes beyond CPUID's size");
        Assert.AreNotEqual(Fill, g.Memory.Read(Area + 831, 1), "the last byte of YMM15's upper half is within it");
    }

    [TestMethod]
    public void Ia32XssAcceptsOnlyZero()
    {
        using var g = GuestRunner.Long(a => a.hlt());
        Assert.IsTrue(g.Cpu.TryReadMsr(Msr.Xss, out var xss));
        Assert.AreEqual(0UL, xss);
        Assert.IsTrue(g.Cpu.TryWriteMsr(Msr.Xss, 0));
        Assert.IsFalse(g.Cpu.TryWriteMsr(Msr.Xss, 1UL << 8), "PT state (bit 8) is not supported");
        Assert.IsFalse(g.Cpu.TryWriteMsr(Msr.Xss, 1), "x87 is a user component: XCR0's, never IA32_XSS's");
        Assert.AreEqual(0UL, g.Cpu.Xss);
    }

    [TestMethod]
    public void WrmsrOfAnUnsupportedXssBitFaults()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(ecx, Msr.Xss);
            a.mov(eax, 0x100);
            a.xor(edx, edx);
            a.wrmsr();
            a.hlt();
        });
        Assert.AreEqual((int)Registers.ExceptionVector.GP, g.RunToVector());
    }
}
