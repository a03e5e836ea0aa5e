using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>
/// MSRs that only one vendor's processors have: IA32_PLATFORM_ID, IA32_FEATURE_CONTROL and
/// IA32_MISC_ENABLE are Intel's (SDM vol. 4, table 2-2; AMD's APM vol. 2, appendix A, has none of
/// them), and IA32_TSC_ADJUST exists where CPUID.(EAX=07H,ECX=0):EBX[1] says so, which sim
/// announces on Intel only. On the other vendor RDMSR and WRMSR of them raise #GP.
/// </summary>
[TestClass]
public sealed class VendorMsrTests
{
    private static readonly uint[] IntelOnly = [0x17, 0x3A, 0x3B, 0x1A0];

    private static Processor Create(CpuVendor vendor) => new(new PhysicalMemory(1 << 20), new TestBus()) { Vendor = vendor };

    [TestMethod]
    public void IntelHasThemAndAnnouncesTscAdjust()
    {
        using var cpu = Create(CpuVendor.Intel);
        foreach (var msr in IntelOnly) Assert.IsTrue(cpu.TryReadMsr(msr, out _), $"{msr:X}h");
        cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
        Assert.AreNotEqual(0u, ebx & 2, "CPUID.07H:EBX.TSC_ADJUST");
        Assert.IsTrue(cpu.TryWriteMsr(0x3B, 5));
        Assert.IsTrue(cpu.TryReadMsr(0x10, out var tsc));
        Assert.IsTrue(tsc >= 5, "IA32_TSC_ADJUST adds to the TSC");
    }

    [TestMethod]
    public void AmdRaisesGpForThem()
    {
        using var cpu = Create(CpuVendor.Amd);
        foreach (var msr in IntelOnly)
        {
            Assert.IsFalse(cpu.TryReadMsr(msr, out _), $"RDMSR {msr:X}h");
            Assert.IsFalse(cpu.TryWriteMsr(msr, 0), $"WRMSR {msr:X}h");
        }
        cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
        Assert.AreEqual(0u, ebx & 2);
    }
}
