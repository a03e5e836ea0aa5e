using Iced.Intel;
using Sim.Cpu.Bus;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>
/// The performance counters as CPUID announces them: Intel's architectural PMU version 2 (SDM vol. 3,
/// 18.2.1–18.2.2, 18.2.6; vol. 4, table 2-2) and AMD's legacy counters (APM vol. 2, 13.2). Counts are
/// checked as differences between two reads, so each expectation is the number of events between them:
/// a read sees every instruction retired before it, the reading instruction itself not yet.
/// </summary>
[TestClass]
public sealed class PerformanceMonitoringTests
{
    private const uint PerfEvtSel0 = 0x186, Pmc0 = 0xC1, FixedCtr0 = 0x309, FixedCtrCtrl = 0x38D;
    private const uint GlobalStatus = 0x38E, GlobalCtrl = 0x38F, GlobalOvfCtrl = 0x390;
    private const uint Usr = 1 << 16, Os = 1 << 17, Int = 1 << 20, En = 1 << 22;
    private const uint InstructionsRetired = 0xC0, BranchesRetired = 0xC4, CoreCycles = 0x3C;

    [TestMethod]
    public void CpuidLeaf0AhAnnouncesVersion2WithFourCountersThreeFixedCountersOf48Bits()
    {
        using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus());
        cpu.Cpuid(0xA, 0, out var eax, out var ebx, out var ecx, out var edx);
        Assert.AreEqual(2u, eax & 0xFF, "version");
        Assert.AreEqual(4u, (eax >> 8) & 0xFF, "general-purpose counters");
        Assert.AreEqual(48u, (eax >> 16) & 0xFF, "their width");
        Assert.AreEqual(7u, eax >> 24, "length of the EBX vector");
        Assert.AreEqual(0u, ebx & ((1 << 0) | (1 << 1) | (1 << 2) | (1 << 5)), "core cycles, instructions, reference cycles, branches are available");
        Assert.AreEqual(0u, ecx);
        Assert.AreEqual(3u, edx & 0x1F, "fixed counters");
        Assert.AreEqual(48u, (edx >> 5) & 0xFF, "their width");
    }

    [TestMethod]
    public void TheIntelMsrsHoldTheirFieldsAndRefuseReservedBits()
    {
        using var cpu = new Processor(new PhysicalMemory(1 << 20), new TestBus());
        Assert.IsTrue(cpu.TryReadMsr(GlobalCtrl, out var global));
        Assert.AreEqual(0xFUL, global, "IA32_PERF_GLOBAL_CTRL sets bits n-1:0 at reset (SDM vol. 4, table 2-2)");
        Assert.IsTrue(cpu.TryWriteMsr(Pmc0, 0x0000_0000_8000_0001UL));
        Assert.IsTrue(cpu.TryReadMsr(Pmc0, out var pmc));
        Assert.AreEqual(0xFFFF_8000_0001UL, pmc, "bits 31:0 written, bit 31 sign-extended to the width (SDM vol. 3, 18.2.6)");
        Assert.IsTrue(cpu.TryWriteMsr(Pmc0, 0x1234_5678_7FFF_FFFFUL));
        Assert.IsTrue(cpu.TryReadMsr(Pmc0, out pmc));
        Assert.AreEqual(0x7FFF_FFFFUL, pmc);
        Assert.IsFalse(cpu.TryWriteMsr(PerfEvtSel0, 1UL << 21), "AnyThread is version 3");
        Assert.IsFalse(cpu.TryWriteMsr(PerfEvtSel0, 1UL << 32), "bits 63:32 are reserved");
        Assert.IsTrue(cpu.TryWriteMsr(PerfEvtSel0 + 3, 0xFFDF_FFFFUL));
        Assert.IsFalse(cpu.TryReadMsr(PerfEvtSel0 + 4, out _), "four counters");
        Assert.IsFalse(cpu.TryReadMsr(Pmc0 + 4, out _));
        Assert.IsFalse(cpu.TryWriteMsr(FixedCtrCtrl, 1 << 2), "AnyThread of fixed counter 0 is version 3");
        Assert.IsFalse(cpu.TryWriteMsr(FixedCtrCtrl, 1 << 12), "three fixed counters");
        Assert.IsTrue(cpu.TryWriteMsr(FixedCtrCtrl, 0xBBB));
        Assert.IsFalse(cpu.TryWriteMsr(FixedCtr0, 1UL << 48), "a fixed counter is 48 bits wide");
        Assert.IsFalse(cpu.TryWriteMsr(GlobalCtrl, 1UL << 4), "PMC4 does not exist (SDM vol. 3, 18.9.1)");
        Assert.IsFalse(cpu.TryWriteMsr(GlobalCtrl, 1UL << 35));
        Assert.IsFalse(cpu.TryWriteMsr(GlobalStatus, 0), "IA32_PERF_GLOBAL_STATUS is read-only");
        Assert.IsFalse(cpu.TryWriteMsr(GlobalOvfCtrl, 1UL << 4));
        Assert.IsFalse(cpu.TryReadMsr(0x345, out _), "no IA32_PERF_CAPABILITIES without CPUID.01H:ECX.PDCM");
    }

    /// <summary>Two RDPMC of counter <paramref name="ecxIndex"/> around <paramref name="body"/>; the exit value is the difference.</summary>
    private static GuestRunner CountAround(uint ecxIndex, Action<Assembler> setUp, Action<Assembler> body) => GuestRunner.Long(a =>
    {
        setUp(a);
        a.mov(ecx, ecxIndex);
        a.rdpmc();
        a.mov(esi, eax);
        body(a);
        a.mov(ecx, ecxIndex);
        a.rdpmc();
        a.sub(eax, esi);
        a.@out(0xF4, eax);
    });

    private static void WriteMsr(Assembler a, uint index, ulong value)
    {
        a.mov(ecx, index);
        a.mov(eax, (uint)value);
        a.mov(edx, (uint)(value >> 32));
        a.wrmsr();
    }

    private static void Loop(Assembler a, int iterations)
    {
        var top = a.CreateLabel();
        a.mov(ebx, iterations);
        a.Label(ref top);
        a.dec(ebx);
        a.jnz(top);
    }

    [TestMethod]
    public void InstructionsRetiredCountsEachInstructionBetweenTwoReads()
    {
        // Between the reads: RDPMC itself, MOV ESI, MOV EBX, 100 × (DEC, JNZ), MOV ECX.
        using var g = CountAround(0, a => WriteMsr(a, PerfEvtSel0, En | Os | Usr | InstructionsRetired), a => Loop(a, 100));
        g.AssertExit(1 + 1 + 1 + 200 + 1);
    }

    [TestMethod]
    public void BranchInstructionsRetiredCountsTheLoopsJcc()
    {
        using var g = CountAround(1, a => WriteMsr(a, PerfEvtSel0 + 1, En | Os | BranchesRetired), a => Loop(a, 100));
        g.AssertExit(100);
    }

    [TestMethod]
    public void AnEventSelectWithUsrOnlyDoesNotCountAtCpl0()
    {
        using var g = CountAround(2, a => WriteMsr(a, PerfEvtSel0 + 2, En | Usr | InstructionsRetired), a => Loop(a, 10));
        g.AssertExit(0);
    }

    [TestMethod]
    public void AClearedGlobalEnableStopsTheCounter()
    {
        using var g = CountAround(0, a =>
        {
            WriteMsr(a, PerfEvtSel0, En | Os | InstructionsRetired);
            WriteMsr(a, GlobalCtrl, 0xE);
        }, a => Loop(a, 10));
        g.AssertExit(0);
    }

    [TestMethod]
    public void FixedCounter0CountsInstructionsAndFixedCounter1CoreCycles()
    {
        // IA32_FIXED_CTR_CTRL: OS and USR for counters 0 and 1; IA32_PERF_GLOBAL_CTRL bits 32 and 33.
        using var g = CountAround(1u << 30, a =>
        {
            WriteMsr(a, FixedCtrCtrl, 0x33);
            WriteMsr(a, GlobalCtrl, 3UL << 32);
        }, a => Loop(a, 50));
        g.AssertExit(1 + 1 + 1 + 100 + 1);
        using var c = CountAround((1u << 30) | 1, a =>
        {
            WriteMsr(a, FixedCtrCtrl, 0x33);
            WriteMsr(a, GlobalCtrl, 3UL << 32);
        }, a => Loop(a, 50));
        // Each instruction costs one cycle in the default cost table.
        c.AssertExit(1 + 1 + 1 + 100 + 1);
    }

    [TestMethod]
    public void AGeneralCounterCountingCoreCyclesAdvancesWithTheClock()
    {
        using var g = CountAround(3, a => WriteMsr(a, PerfEvtSel0 + 3, En | Os | CoreCycles), a => Loop(a, 20));
        g.AssertExit(1 + 1 + 1 + 40 + 1);
    }

    [TestMethod]
    public void AnOverflowSetsItsGlobalStatusBitAndRaisesThePmiRightAfterTheOverflowingInstruction()
    {
        var apic = new RecordingLocalApic();
        using var g = GuestRunner.Long(a =>
        {
            // PMC0 = -10: the tenth instruction retired after the enabling WRMSR wraps it to 0.
            WriteMsr(a, Pmc0, 0xFFFF_FFF6);
            WriteMsr(a, PerfEvtSel0, En | Os | Int | InstructionsRetired);
            Loop(a, 100);
            a.mov(ecx, GlobalStatus);
            a.rdmsr();
            a.mov(esi, eax);
            WriteMsr(a, GlobalOvfCtrl, 1);
            a.mov(ecx, GlobalStatus);
            a.rdmsr();
            a.shl(eax, 8);
            a.or(eax, esi);
            a.@out(0xF4, eax);
        });
        g.Cpu.LocalApic = apic;
        apic.Cpu = g.Cpu;
        var before = g.Cpu.InstructionsRetired;
        g.AssertExit(1);
        Assert.AreEqual(1, apic.Overflows.Count, "one PMI");
        // The WRMSR that enables counting counts (it retires after the write): WRMSR + 9 more instructions
        // wrap the counter; the setup before it is MOV ECX, MOV EAX, MOV EDX, WRMSR, MOV ECX, MOV EAX, MOV EDX.
        Assert.AreEqual(7UL + 10, apic.Overflows[0] - before, "the PMI follows the instruction that overflowed");
    }

    [TestMethod]
    public void RdpmcAtCpl3NeedsCr4PceAndAValidIndex()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.xor(ecx, ecx);
            a.rdpmc();
        });
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "CR4.PCE = 0 at CPL 3");
        using var p = GuestRunner.Protected(a =>
        {
            a.xor(ecx, ecx);
            a.rdpmc();
            a.mov(ecx, 4);
            a.rdpmc();
        });
        p.Cpu.LoadControlState(p.Cpu.Cr0, p.Cpu.Cr3, p.Cpu.Cr4 | Cr4.PCE, p.Cpu.Efer);
        p.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, p.RunToVector(), "counter 4 does not exist");
        Assert.AreEqual(GuestRunner.CodeAddress + 9, p.Stack(1), "the first RDPMC succeeded; the second (after XOR, RDPMC, MOV ECX) faults");
    }

    [TestMethod]
    public void AmdLegacyCountersCountRetiredInstructionsAndBranches()
    {
        const uint amdSel = 0xC0010000;
        using var g = CountAround(0, a => WriteMsr(a, amdSel, En | Os | 0xC0), a => Loop(a, 30));
        g.Cpu.Vendor = CpuVendor.Amd;
        g.AssertExit(1 + 1 + 1 + 60 + 1);
        using var b = CountAround(1, a => WriteMsr(a, amdSel + 1, En | Os | 0xC2), a => Loop(a, 30));
        b.Cpu.Vendor = CpuVendor.Amd;
        b.AssertExit(30);
    }

    private sealed class RecordingLocalApic : ILocalApic
    {
        public Processor? Cpu { get; set; }
        public List<ulong> Overflows { get; } = [];
        public ulong ReadRegister(uint offset, int size) => 0;
        public void WriteRegister(uint offset, int size, ulong value) { }
        public bool TryReadMsr(uint index, out ulong value) { value = 0; return false; }
        public bool TryWriteMsr(uint index, ulong value) => false;
        public byte TaskPriority { get; set; }
        public void BaseChanged(ulong previous, ulong current) { }
        public void PerformanceCounterOverflow() => Overflows.Add(Cpu!.InstructionsRetired);
        public void Init() { }
    }
}
