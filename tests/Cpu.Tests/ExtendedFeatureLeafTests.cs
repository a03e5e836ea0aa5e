using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>
/// CPUID 8000_0001h:EDX (AMD APM vol. 3, appendix E, Fn8000_0001_EDX; SDM vol. 2, CPUID): AMD repeats leaf 1's EDX
/// bits 0–9, 12–17, 23 and 24 and adds MmxExt (22); Intel defines only SYSCALL (11), NX (20), 1-GiB pages (26),
/// RDTSCP (27) and LM (29) there.
/// </summary>
[TestClass]
public sealed class ExtendedFeatureLeafTests
{
    private const uint AmdMirroredBits = 0x0183F3FF;

    [TestMethod]
    public void AmdRepeatsTheBasicFeatureBits()
    {
        using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus()) { Vendor = CpuVendor.Amd };
        cpu.Cpuid(1, 0, out _, out _, out _, out var basic);
        cpu.Cpuid(0x80000001, 0, out _, out _, out _, out var extended);
        Assert.AreEqual(basic & AmdMirroredBits, extended & AmdMirroredBits);
        Assert.AreNotEqual(0u, extended & 1, "FPU");
        Assert.AreNotEqual(0u, extended & (1u << 23), "MMX");
        Assert.AreNotEqual(0u, extended & (1u << 24), "FXSR");
        Assert.AreNotEqual(0u, extended & (1u << 22), "MmxExt");
        Assert.AreEqual(0u, extended & (1u << 25), "no FFXSR: EFER.FFXSR is not implemented");
        Assert.AreEqual(0u, extended & (3u << 30), "no 3DNow!");
    }

    [TestMethod]
    public void IntelDefinesOnlyItsFiveBits()
    {
        using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus()) { Vendor = CpuVendor.Intel };
        cpu.Cpuid(0x80000001, 0, out _, out _, out _, out var extended);
        Assert.AreEqual(0u, extended & ~((1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29)));
    }
}
