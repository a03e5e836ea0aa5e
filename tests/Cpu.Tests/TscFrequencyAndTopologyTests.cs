using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>
/// What an Intel processor announces of its TSC rate and topology (SDM vol. 2, CPUID leaves 0Bh, 15h
/// and 16h; vol. 4, MSR_PLATFORM_INFO), computed from those definitions for the configured frequency.
/// </summary>
[TestClass]
public sealed class TscFrequencyAndTopologyTests
{
    private static Processor Create(ulong hz, CpuVendor vendor = CpuVendor.Intel, int index = 0)
    {
        var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus(), index) { TscFrequencyHz = hz, Vendor = vendor };
        return cpu;
    }

    /// <summary>TSC frequency = ECX × EBX / EAX, as Linux's native_calibrate_tsc computes it in kHz.</summary>
    private static ulong TscFromLeaf15(Processor cpu)
    {
        cpu.Cpuid(0x15, 0, out var denominator, out var numerator, out var crystal, out _);
        Assert.AreNotEqual(0u, denominator);
        Assert.AreNotEqual(0u, numerator);
        Assert.AreNotEqual(0u, crystal, "the crystal clock is enumerated");
        return (ulong)crystal / 1000 * numerator / denominator * 1000;
    }

    [TestMethod]
    [DataRow(1_000_000_000UL)]
    [DataRow(2_000_000_000UL)]
    [DataRow(2_400_000_000UL)]
    [DataRow(3_000_000_000UL)]
    [DataRow(5_000_000_000UL)]
    public void Leaf15hGivesTheTscFrequencyExactly(ulong hz)
    {
        using var cpu = Create(hz);
        Assert.AreEqual(hz, TscFromLeaf15(cpu));
    }

    [TestMethod]
    public void TheCrystalIsTheApicTimersInputThatTicksOncePerCycle()
    {
        using var cpu = Create(1_000_000_000);
        cpu.Cpuid(0x15, 0, out var eax, out var ebx, out var ecx, out var edx);
        Assert.AreEqual((1u, 1u, 1_000_000_000u, 0u), (eax, ebx, ecx, edx));
    }

    [TestMethod]
    public void Leaf16hGivesBaseMaximumAndBusFrequencyInMhz()
    {
        using var cpu = Create(2_000_000_000);
        cpu.Cpuid(0x16, 0, out var baseMhz, out var maxMhz, out var busMhz, out var edx);
        Assert.AreEqual((2000u, 2000u, 100u, 0u), (baseMhz, maxMhz, busMhz, edx));
    }

    [TestMethod]
    [DataRow(1_000_000_000UL, 10UL)]
    [DataRow(2_000_000_000UL, 20UL)]
    [DataRow(3_600_000_000UL, 36UL)]
    public void PlatformInfoGivesTheNonTurboRatioOverTheBusClock(ulong hz, ulong ratio)
    {
        using var cpu = Create(hz);
        Assert.IsTrue(cpu.TryReadMsr(0xCE, out var info));
        Assert.AreEqual(ratio, (info >> 8) & 0xFF, "bits 15:8: maximum non-turbo ratio");
        Assert.AreEqual(hz, ((info >> 8) & 0xFF) * 100_000_000, "ratio × 100 MHz is the TSC frequency");
        Assert.AreEqual(ratio, (info >> 40) & 0xFF, "bits 47:40: maximum efficiency ratio, no lower P-state");
        Assert.AreEqual(0UL, info & (7UL << 28), "no programmable ratio, TDP or TCC");
        Assert.IsFalse(cpu.TryWriteMsr(0xCE, info), "read-only");
    }

    [TestMethod]
    public void AmdHasNoPlatformInfoAndItsMaximumBasicLeafIsTheXsaveLeaf()
    {
        using var cpu = Create(1_000_000_000, CpuVendor.Amd);
        Assert.IsFalse(cpu.TryReadMsr(0xCE, out _));
        cpu.Cpuid(0, 0, out var max, out _, out _, out _);
        Assert.AreEqual(0xDu, max, "leaf 0Dh (XSAVE), as on Zen 3; no TSC-frequency leaves 15h/16h");
    }

    [TestMethod]
    public void TheMaximumBasicLeafIs16hAndTheLeavesBetweenAreEmpty()
    {
        using var cpu = Create(1_000_000_000);
        cpu.Cpuid(0, 0, out var max, out _, out _, out _);
        Assert.AreEqual(0x16u, max);
        // 08h reserved, 09h DCA, 0Ch reserved, 0Eh reserved, 0Fh/10h RDT, 11h reserved, 12h SGX,
        // 13h reserved, 14h PT: zeros for a processor without those features (0Ah is the PMU, see PerformanceMonitoringTests).
        foreach (var leaf in new uint[] { 8, 9, 0xC, 0xE, 0xF, 0x10, 0x11, 0x12, 0x13, 0x14 })
        {
            for (uint sub = 0; sub < 2; sub++)
            {
                cpu.Cpuid(leaf, sub, out var a, out var b, out var c, out var d);
                Assert.AreEqual((0u, 0u, 0u, 0u), (a, b, c, d), $"leaf {leaf:x}h.{sub}");
            }
        }
        cpu.Cpuid(1, 0, out _, out _, out var ecx1, out _);
        Assert.AreEqual(0u, ecx1 & ((1u << 15) | (1u << 18)), "no PDCM (IA32_PERF_CAPABILITIES) or DCA, so leaf 09h stays empty");
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(5)]
    public void Leaf0BhGivesOneThreadPerCoreAndTheX2ApicId(int index)
    {
        using var cpu = Create(1_000_000_000, index: index);
        cpu.Cpuid(1, 0, out _, out var ebx1, out _, out var edx1);
        Assert.AreEqual((uint)index, ebx1 >> 24, "the initial APIC ID");
        Assert.AreEqual(0u, edx1 & (1u << 28), "no HTT: one logical processor per package");

        cpu.Cpuid(0xB, 0, out var a, out var b, out var c, out var d);
        Assert.AreEqual(0u, a & 0x1F, "no SMT bits in the x2APIC ID");
        Assert.AreEqual(1u, b & 0xFFFF, "one logical processor per core");
        Assert.AreEqual(0x100u, c & 0xFFFF, "level 0, type 1 (SMT)");
        Assert.AreEqual((uint)index, d, "x2APIC ID");

        cpu.Cpuid(0xB, 1, out a, out b, out c, out d);
        Assert.AreEqual(0u, a & 0x1F, "one core per package");
        Assert.AreEqual(1u, b & 0xFFFF);
        Assert.AreEqual(0x201u, c & 0xFFFF, "level 1, type 2 (core)");
        Assert.AreEqual((uint)index, d);

        cpu.Cpuid(0xB, 2, out a, out b, out c, out d);
        Assert.AreEqual((0u, 0u, 2u, (uint)index), (a, b & 0xFFFF, c, d), "level 2 is invalid: type 0");
    }
}
