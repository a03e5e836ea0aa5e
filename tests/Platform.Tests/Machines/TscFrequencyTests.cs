namespace Sim.Platform.Tests.Machines;

/// <summary>Every processor announces the machine's clock as its TSC frequency (CPUID 15h, 16h and MSR_PLATFORM_INFO).</summary>
[TestClass]
public sealed class TscFrequencyTests
{
    [TestMethod]
    [DataRow(1_000_000_000UL)]
    [DataRow(2_000_000_000UL)]
    public void EveryProcessorAnnouncesTheConfiguredFrequency(ulong hz)
    {
        using var machine = new Machine(new MachineConfig { Cpus = 2, CpuFrequencyHz = hz });
        foreach (var cpu in machine.Processors)
        {
            Assert.AreEqual(hz, cpu.TscFrequencyHz);
            cpu.Cpuid(0x15, 0, out var denominator, out var numerator, out var crystal, out _);
            Assert.AreEqual(hz, (ulong)crystal * numerator / denominator);
            cpu.Cpuid(0x16, 0, out var baseMhz, out _, out _, out _);
            Assert.AreEqual(hz / 1_000_000, baseMhz);
            Assert.IsTrue(cpu.TryReadMsr(0xCE, out var info));
            Assert.AreEqual(hz / 100_000_000, (info >> 8) & 0xFF);
        }
    }
}
