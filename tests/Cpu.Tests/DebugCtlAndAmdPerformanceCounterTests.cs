using Sim.Cpu.Memory;

namespace Sim.Cpu.Tests;

/// <summary>IA32_DEBUGCTL on both vendors (SDM vol. 3, 18.4.1; APM vol. 2, 13.1.1.6) and AMD's legacy performance-counter MSRs (APM vol. 2, 13.2.1).</summary>
[TestClass]
public sealed class DebugCtlAndAmdPerformanceCounterTests
{
    private static Processor Create(CpuVendor vendor) => new(new PhysicalMemory(1 << 20), new TestBus()) { Vendor = vendor };

    [TestMethod]
    [DataRow(CpuVendor.Intel)]
    [DataRow(CpuVendor.Amd)]
    public void DebugCtlHoldsLbrAndBtfAndRefusesEveryOtherBit(CpuVendor vendor)
    {
        using var cpu = Create(vendor);
        Assert.IsTrue(cpu.TryReadMsr(0x1D9, out var value));
        Assert.AreEqual(0UL, value, "0 at reset");
        Assert.IsTrue(cpu.TryWriteMsr(0x1D9, 3));
        Assert.IsTrue(cpu.TryReadMsr(0x1D9, out value));
        Assert.AreEqual(3UL, value);
        for (var bit = 2; bit < 64; bit++)
            Assert.IsFalse(cpu.TryWriteMsr(0x1D9, 1UL << bit), $"bit {bit}");
        Assert.IsTrue(cpu.TryReadMsr(0x1D9, out value));
        Assert.AreEqual(3UL, value, "a refused write changes nothing");
        cpu.Reset();
        Assert.IsTrue(cpu.TryReadMsr(0x1D9, out value));
        Assert.AreEqual(0UL, value);
    }

    [TestMethod]
    public void PerfEvtSelHoldsItsDefinedFieldsAndRefusesReservedBits()
    {
        using var cpu = Create(CpuVendor.Amd);
        const ulong defined = 0x0000_030F_FFD7_FFFFUL;
        for (uint i = 0; i < 4; i++)
        {
            var msr = 0xC0010000 + i;
            Assert.IsTrue(cpu.TryReadMsr(msr, out var value));
            Assert.AreEqual(0UL, value);
            var written = 0x0000_0301_0043_0076UL + i;
            Assert.IsTrue(cpu.TryWriteMsr(msr, written), "EventSelect, UnitMask, USR, OS, EN, HostOnly");
            Assert.IsTrue(cpu.TryReadMsr(msr, out value));
            Assert.AreEqual(written, value);
            Assert.IsTrue(cpu.TryWriteMsr(msr, defined));
            for (var bit = 0; bit < 64; bit++)
            {
                if ((defined & (1UL << bit)) == 0) Assert.IsFalse(cpu.TryWriteMsr(msr, 1UL << bit), $"PerfEvtSel{i} bit {bit} is reserved");
            }
            Assert.IsTrue(cpu.TryReadMsr(msr, out value));
            Assert.AreEqual(defined, value);
        }
    }

    [TestMethod]
    public void PerfCtrHoldsFortyEightBits()
    {
        using var cpu = Create(CpuVendor.Amd);
        for (uint i = 0; i < 4; i++)
        {
            var msr = 0xC0010004 + i;
            Assert.IsTrue(cpu.TryWriteMsr(msr, 0xFFFF_8000_0000_1234UL + i));
            Assert.IsTrue(cpu.TryReadMsr(msr, out var value));
            Assert.AreEqual(0x8000_0000_1234UL + i, value, "bits 63:48 are not kept");
        }
        Assert.IsTrue(cpu.TryReadMsr(0xC0010000, out var select));
        Assert.AreEqual(0UL, select, "the counters are apart from the selects");
        Assert.IsFalse(cpu.TryReadMsr(0xC0010008, out _), "four counters only");
    }

    [TestMethod]
    public void IntelHasNoAmdPerformanceCounterMsrs()
    {
        using var cpu = Create(CpuVendor.Intel);
        for (uint msr = 0xC0010000; msr < 0xC0010008; msr++)
        {
            Assert.IsFalse(cpu.TryReadMsr(msr, out _));
            Assert.IsFalse(cpu.TryWriteMsr(msr, 0));
        }
    }
}
