using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;

namespace Sim.Svm.Tests;

/// <summary>SVM enablement (AMD APM vol. 2, 15.4 and 15.30; vol. 3, CPUID 8000_0001h and 8000_000Ah).</summary>
[TestClass]
public sealed class SvmEnablementTests
{
    [TestMethod]
    public void CpuidAnnouncesSvmAndItsFeatures()
    {
        using var m = new SvmTestMachine();
        var cpu = m.Cpu;
        cpu.Cpuid(0, 0, out _, out var b, out var c, out var d);
        Assert.AreEqual("AuthenticAMD", Text(b, d, c), "CpuVendor.Amd once the unit is attached");
        Assert.AreEqual(CpuVendor.Amd, cpu.Vendor);
        cpu.Cpuid(0x80000000, 0, out var max, out b, out c, out d);
        Assert.AreEqual(0x8000000AU, max, "the extended range reaches leaf 8000_000Ah");
        Assert.AreEqual("AuthenticAMD", Text(b, d, c));
        cpu.Cpuid(0x80000001, 0, out _, out _, out c, out _);
        Assert.AreEqual(1U << 2, c & (1U << 2), "8000_0001h ECX.SVM (bit 2)");
        Assert.AreEqual(0U, c & (1U << 12), "ECX.SKINIT (bit 12) is clear: SKINIT raises #UD");
        cpu.Cpuid(0x8000000A, 0, out var rev, out var asids, out _, out var features);
        Assert.AreEqual(1U, rev & 0xFF, "SVM revision");
        Assert.IsTrue(asids >= 2, "at least one guest ASID besides the host's");
        foreach (var bit in new[] { 0, 3, 5, 6, 7, 10, 12 })
            Assert.AreNotEqual(0U, features & (1U << bit), $"8000_000Ah EDX bit {bit} (NP, NRIPS, VMCB clean, flush by ASID, decode assists, pause filter, threshold)");
        Assert.AreEqual(0U, features & ((1U << 1) | (1U << 2) | (1U << 13) | (1U << 16)), "LBR virtualization, SVM lock, AVIC and VGIF are not offered");
    }

    private static string Text(params uint[] words) =>
        string.Concat(words.SelectMany(w => new[] { (char)(w & 0xFF), (char)((w >> 8) & 0xFF), (char)((w >> 16) & 0xFF), (char)(w >> 24) }));

    [TestMethod]
    public void EferSvmeIsWritableOnlyWithTheUnit()
    {
        using var memory = new PhysicalMemory(1 << 20);
        using var bare = new Processor(memory, new TestBus());
        Assert.IsFalse(bare.TryWriteMsr(Msr.Efer, Efer.SVME), "without SVM, EFER.SVME is reserved (#GP)");
        using var m = new SvmTestMachine();
        Assert.IsTrue(m.Cpu.TryWriteMsr(Msr.Efer, m.Cpu.Efer & ~Efer.SVME));
        Assert.IsTrue(m.Cpu.TryWriteMsr(Msr.Efer, m.Cpu.Efer | Efer.SVME));
        Assert.AreNotEqual(0UL, m.Cpu.Efer & Efer.SVME);
    }

    [TestMethod]
    public void VmCrSvmdisMakesSvmeReservedAndLockFreezesIt()
    {
        using var m = new SvmTestMachine();
        var cpu = m.Cpu;
        Assert.IsFalse(cpu.TryWriteMsr(SvmMsr.VmCr, SvmMsr.VmCrSvmDis), "SVMDIS can be set only while EFER.SVME is clear (15.30.1)");
        Assert.IsTrue(cpu.TryWriteMsr(Msr.Efer, cpu.Efer & ~Efer.SVME));
        Assert.IsTrue(cpu.TryWriteMsr(SvmMsr.VmCr, SvmMsr.VmCrSvmDis | SvmMsr.VmCrLock));
        Assert.IsFalse(cpu.TryWriteMsr(Msr.Efer, cpu.Efer | Efer.SVME), "with SVMDIS set, EFER.SVME is MBZ");
        Assert.IsTrue(cpu.TryWriteMsr(SvmMsr.VmCr, 0), "writes to LOCK and SVMDIS are ignored while LOCK is set");
        Assert.IsTrue(cpu.TryReadMsr(SvmMsr.VmCr, out var vmcr));
        Assert.AreEqual(SvmMsr.VmCrSvmDis | SvmMsr.VmCrLock, vmcr);
        Assert.IsFalse(cpu.TryWriteMsr(SvmMsr.VmCr, 1UL << 5), "reserved VM_CR bits raise #GP");
    }

    [TestMethod]
    public void VmHsavePaMustBeAlignedAndBelowThePhysicalAddressWidth()
    {
        using var m = new SvmTestMachine();
        Assert.IsFalse(m.Cpu.TryWriteMsr(SvmMsr.VmHsavePa, 0x41008), "not 4-KiB aligned (15.30.4)");
        Assert.IsFalse(m.Cpu.TryWriteMsr(SvmMsr.VmHsavePa, 1UL << Processor.MaxPhysicalAddressBits));
        Assert.IsTrue(m.Cpu.TryWriteMsr(SvmMsr.VmHsavePa, 0x44000));
        Assert.IsTrue(m.Cpu.TryReadMsr(SvmMsr.VmHsavePa, out var pa));
        Assert.AreEqual(0x44000UL, pa);
    }
}
