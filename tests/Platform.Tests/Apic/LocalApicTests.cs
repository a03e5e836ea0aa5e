using Sim.Cpu;
using Sim.Platform.Apic;

namespace Sim.Platform.Tests.Apic;

/// <summary>The local APIC's registers and message handling against SDM vol. 3, ch. 11, through its xAPIC page and x2APIC MSRs.</summary>
[TestClass]
public sealed class LocalApicTests
{
    private const uint Id = 0x020, Version = 0x030, Tpr = 0x080, Apr = 0x090, Ppr = 0x0A0, Eoi = 0x0B0, Ldr = 0x0D0, Dfr = 0x0E0, Svr = 0x0F0;
    private const uint Isr = 0x100, Tmr = 0x180, Irr = 0x200, Esr = 0x280, IcrLow = 0x300, IcrHigh = 0x310;
    private const uint LvtTimer = 0x320, LvtLint0 = 0x350, LvtLint1 = 0x360, LvtError = 0x370, InitialCount = 0x380, CurrentCount = 0x390, DivideConfig = 0x3E0;

    private static Machine Create(int cpus = 2) => new(new MachineConfig { Cpus = cpus });

    private static uint Read(LocalApic apic, uint offset) => (uint)apic.ReadRegister(offset, 4);

    private static void Write(LocalApic apic, uint offset, uint value) => apic.WriteRegister(offset, 4, value);

    private static void Enable(LocalApic apic) => Write(apic, Svr, 0x1FF);

    private static bool InIrr(LocalApic apic, int vector) => (Read(apic, Irr + (uint)(vector / 32 * 0x10)) & (1u << (vector % 32))) != 0;

    private static bool InIsr(LocalApic apic, int vector) => (Read(apic, Isr + (uint)(vector / 32 * 0x10)) & (1u << (vector % 32))) != 0;

    [TestMethod]
    public void PowerUpStateIsAsTheSdmLists()
    {
        // SDM 11.4.7.1: IRR, ISR, TMR, ICR, LDR, TPR zero; DFR all ones; LVT entries masked; SVR FFh. Version 14h, max LVT entry 5.
        using var machine = Create();
        var ap = machine.LocalApics[1];
        Assert.AreEqual(1u << 24, Read(ap, Id));
        Assert.AreEqual(0x0005_0014u, Read(ap, Version));
        Assert.AreEqual(0xFFFF_FFFFu, Read(ap, Dfr));
        Assert.AreEqual(0xFFu, Read(ap, Svr));
        Assert.AreEqual(0u, Read(ap, Ldr));
        Assert.AreEqual(0u, Read(ap, Tpr));
        for (var lvt = LvtTimer; lvt <= LvtError; lvt += 0x10) Assert.AreEqual(0x0001_0000u, Read(ap, lvt), $"LVT {lvt:X}");
        Assert.AreEqual(0xFEE0_0000UL | (1UL << 11), machine.Processors[1].ApicBase, "an AP: enabled, not BSP");
        Assert.AreEqual(0xFEE0_0000UL | (1UL << 11) | (1UL << 8), machine.Processors[0].ApicBase, "the BSP flag");
    }

    [TestMethod]
    public void TheBiosLeavesTheBootstrapProcessorInVirtualWireMode()
    {
        using var machine = Create();
        var bsp = machine.LocalApics[0];
        Assert.AreEqual(0x1FFu, Read(bsp, Svr), "software enabled");
        Assert.AreEqual(0x700u, Read(bsp, LvtLint0), "LINT0: ExtINT, unmasked");
        Assert.AreEqual(0x400u, Read(bsp, LvtLint1), "LINT1: NMI, unmasked");
    }

    [TestMethod]
    public void ProcessorPriorityIsTheTprOrTheInServiceClass()
    {
        // SDM 11.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0.
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        Write(apic, Tpr, 0x45);
        Assert.AreEqual(0x45u, Read(apic, Ppr));
        apic.Accept(new InterruptMessage(0x61, DeliveryMode.Fixed, false, 1, false));
        Assert.AreEqual(0x61, apic.Acknowledge());
        Assert.AreEqual(0x60u, Read(apic, Ppr));
        Write(apic, Tpr, 0x70);
        Assert.AreEqual(0x70u, Read(apic, Ppr));
    }

    [TestMethod]
    public void AnInterruptIsPresentedOnlyAboveTheProcessorPriorityClass()
    {
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        Write(apic, Tpr, 0x50);
        apic.Accept(new InterruptMessage(0x5F, DeliveryMode.Fixed, false, 1, false));
        Assert.IsTrue(InIrr(apic, 0x5F));
        Assert.IsFalse(apic.InterruptPending, "class 5 is not above PPR class 5");
        machine.Processors[1].Cr8 = 4;
        Assert.AreEqual(0x40u, Read(apic, Tpr), "MOV CR8 writes TPR[7:4] and clears TPR[3:0]");
        Assert.IsTrue(apic.InterruptPending);
        Assert.AreEqual(0x5F, apic.Acknowledge());
        Assert.IsFalse(InIrr(apic, 0x5F));
        Assert.IsTrue(InIsr(apic, 0x5F));
        Write(apic, Eoi, 0);
        Assert.IsFalse(InIsr(apic, 0x5F));
    }

    [TestMethod]
    public void TheHighestPriorityInServiceVectorEndsAtEoi()
    {
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        apic.Accept(new InterruptMessage(0x41, DeliveryMode.Fixed, false, 1, false));
        Assert.AreEqual(0x41, apic.Acknowledge());
        apic.Accept(new InterruptMessage(0x92, DeliveryMode.Fixed, false, 1, false));
        Assert.AreEqual(0x92, apic.Acknowledge(), "a higher class nests");
        Write(apic, Eoi, 0);
        Assert.IsFalse(InIsr(apic, 0x92));
        Assert.IsTrue(InIsr(apic, 0x41));
    }

    [TestMethod]
    public void NothingAboveThePriorityGivesTheSpuriousVector()
    {
        // SDM 11.9: an acknowledge with nothing deliverable returns the SVR's vector and sets no ISR bit.
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Write(apic, Svr, 0x1EF);
        Assert.AreEqual(0xEF, apic.Acknowledge());
        Assert.AreEqual(0u, Read(apic, Isr + 0x70));
    }

    private sealed class EoiRecorder : IEoiListener
    {
        public List<byte> Vectors { get; } = [];

        public void EndOfInterrupt(byte vector) => Vectors.Add(vector);
    }

    [TestMethod]
    public void EoiOfALevelTriggeredVectorIsBroadcastToTheIoApics()
    {
        // SDM 11.8.5: the TMR bit of a level-triggered vector makes its EOI a broadcast.
        using var machine = Create();
        var recorder = new EoiRecorder();
        machine.ApicBus.AddEoiListener(recorder);
        var apic = machine.LocalApics[1];
        Enable(apic);
        apic.Accept(new InterruptMessage(0x33, DeliveryMode.Fixed, false, 1, LevelTriggered: true));
        Assert.AreEqual(1u << (0x33 - 32), Read(apic, Tmr + 0x10));
        apic.Acknowledge();
        Write(apic, Eoi, 0);
        CollectionAssert.AreEqual(new byte[] { 0x33 }, recorder.Vectors);
        apic.Accept(new InterruptMessage(0x34, DeliveryMode.Fixed, false, 1, LevelTriggered: false));
        apic.Acknowledge();
        Write(apic, Eoi, 0);
        CollectionAssert.AreEqual(new byte[] { 0x33 }, recorder.Vectors, "an edge-triggered vector's EOI stays local");
    }

    [TestMethod]
    public void AFixedIpiReachesItsPhysicalDestinationAndTheDeliveryStatusReadsIdle()
    {
        using var machine = Create(4);
        foreach (var a in machine.LocalApics) Enable(a);
        var sender = machine.LocalApics[0];
        Write(sender, IcrHigh, 2u << 24);
        Write(sender, IcrLow, 0x0000_0051);
        Assert.AreEqual(0u, Read(sender, IcrLow) & (1u << 12), "delivery status idle");
        Assert.AreEqual(0x51u, Read(sender, IcrLow));
        Assert.AreEqual(2u << 24, Read(sender, IcrHigh));
        Assert.IsTrue(InIrr(machine.LocalApics[2], 0x51));
        Assert.IsFalse(InIrr(machine.LocalApics[1], 0x51));
        Assert.IsFalse(InIrr(machine.LocalApics[3], 0x51));
    }

    [TestMethod]
    public void ShorthandsReachSelfAllOrAllButSelf()
    {
        using var machine = Create(3);
        foreach (var a in machine.LocalApics) Enable(a);
        var sender = machine.LocalApics[1];
        Write(sender, IcrLow, (1u << 18) | 0x60);
        CollectionAssert.AreEqual(new[] { false, true, false }, machine.LocalApics.Select(a => InIrr(a, 0x60)).ToArray(), "self");
        Write(sender, IcrLow, (2u << 18) | 0x61);
        CollectionAssert.AreEqual(new[] { true, true, true }, machine.LocalApics.Select(a => InIrr(a, 0x61)).ToArray(), "all including self");
        Write(sender, IcrLow, (3u << 18) | 0x62);
        CollectionAssert.AreEqual(new[] { true, false, true }, machine.LocalApics.Select(a => InIrr(a, 0x62)).ToArray(), "all excluding self");
        Write(sender, IcrHigh, 0xFFu << 24);
        Write(sender, IcrLow, 0x63);
        CollectionAssert.AreEqual(new[] { true, true, true }, machine.LocalApics.Select(a => InIrr(a, 0x63)).ToArray(), "physical destination FFh is a broadcast");
    }

    [TestMethod]
    public void LogicalDestinationsMatchTheFlatAndTheClusterModel()
    {
        using var machine = Create(4);
        var apics = machine.LocalApics;
        foreach (var a in apics) Enable(a);
        for (var i = 0; i < 4; i++) Write(apics[i], Ldr, (1u << i) << 24);
        Write(apics[0], IcrHigh, 0x0Au << 24);
        Write(apics[0], IcrLow, (1u << 11) | 0x70);
        CollectionAssert.AreEqual(new[] { false, true, false, true }, apics.Select(a => InIrr(a, 0x70)).ToArray(), "flat: MDA & LDR");

        // Cluster model: LDR[31:28] the cluster, LDR[27:24] the member bit; the MDA's high nibble picks the cluster.
        foreach (var a in apics) Write(a, Dfr, 0x0FFF_FFFF);
        Write(apics[0], Ldr, 0x11u << 24);
        Write(apics[1], Ldr, 0x12u << 24);
        Write(apics[2], Ldr, 0x21u << 24);
        Write(apics[3], Ldr, 0x22u << 24);
        Assert.AreEqual(0x0FFF_FFFFu, Read(apics[0], Dfr));
        Write(apics[0], IcrHigh, 0x23u << 24);
        Write(apics[0], IcrLow, (1u << 11) | 0x71);
        CollectionAssert.AreEqual(new[] { false, false, true, true }, apics.Select(a => InIrr(a, 0x71)).ToArray(), "cluster 2, members 1 and 2");
    }

    [TestMethod]
    public void LowestPriorityGoesToTheLowestArbitrationPriority()
    {
        using var machine = Create(3);
        var apics = machine.LocalApics;
        foreach (var a in apics) Enable(a);
        Write(apics[0], Tpr, 0x30);
        Write(apics[1], Tpr, 0x20);
        Write(apics[2], Tpr, 0x20);
        Write(apics[0], IcrHigh, 0xFFu << 24);
        Write(apics[0], IcrLow, (1u << 8) | 0x80);
        CollectionAssert.AreEqual(new[] { false, true, false }, apics.Select(a => InIrr(a, 0x80)).ToArray(), "lowest TPR, the lower APIC ID on a tie");
        Assert.AreEqual(0x80u, Read(apics[1], Apr), "its APR now holds the pending class (SDM 11.6.2.4)");
    }

    [TestMethod]
    public void AnIllegalVectorIsLatchedInTheEsrAtItsNextWrite()
    {
        // SDM 11.5.3: send illegal vector (bit 5), receive illegal vector (bit 6); the ESR shows errors after a write.
        using var machine = Create();
        var apics = machine.LocalApics;
        foreach (var a in apics) Enable(a);
        Write(apics[0], IcrHigh, 1u << 24);
        Write(apics[0], IcrLow, 0x05);
        Assert.AreEqual(0u, Read(apics[0], Esr), "not before the write");
        Write(apics[0], Esr, 0);
        Assert.AreEqual(1u << 5, Read(apics[0], Esr));
        Assert.IsFalse(InIrr(apics[1], 0x05));
        apics[1].Accept(new InterruptMessage(0x0E, DeliveryMode.Fixed, false, 1, false));
        Write(apics[1], Esr, 0);
        Assert.AreEqual(1u << 6, Read(apics[1], Esr));
        Write(apics[1], Esr, 0);
        Assert.AreEqual(0u, Read(apics[1], Esr), "the write cleared what it latched");
    }

    [TestMethod]
    public void SoftwareDisableMasksTheLvtUntilEnabled()
    {
        // SDM 11.4.7.2.
        using var machine = Create();
        var apic = machine.LocalApics[0];
        Write(apic, Svr, 0xFF);
        Assert.AreEqual(0x10700u, Read(apic, LvtLint0));
        Write(apic, LvtLint0, 0x700);
        Assert.AreEqual(0x10700u, Read(apic, LvtLint0), "the mask cannot be cleared while disabled");
        Write(apic, Svr, 0x1FF);
        Write(apic, LvtLint0, 0x700);
        Assert.AreEqual(0x700u, Read(apic, LvtLint0));
    }

    [TestMethod]
    public void OneShotTimerCountsDownByTheDividedClockAndInterruptsOnce()
    {
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        Write(apic, DivideConfig, 0x1);
        Write(apic, LvtTimer, 0x40);
        Write(apic, InitialCount, 1000);
        machine.Clock.AdvanceTo(400);
        Assert.AreEqual(1000u - 400 / 4, Read(apic, CurrentCount), "divide by 4");
        Assert.IsFalse(InIrr(apic, 0x40));
        machine.Clock.AdvanceTo(4000);
        Assert.IsTrue(InIrr(apic, 0x40));
        Assert.AreEqual(0u, Read(apic, CurrentCount));
        apic.Acknowledge();
        Write(apic, Eoi, 0);
        machine.Clock.AdvanceTo(100_000);
        Assert.IsFalse(InIrr(apic, 0x40), "one-shot");
    }

    [TestMethod]
    public void PeriodicTimerReloadsAndAMaskedEntryStillCounts()
    {
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        Write(apic, DivideConfig, 0xB);
        Write(apic, LvtTimer, (1u << 17) | (1u << 16) | 0x41);
        Write(apic, InitialCount, 100);
        machine.Clock.AdvanceTo(250);
        Assert.AreEqual(50u, Read(apic, CurrentCount), "divide by 1, reloaded twice");
        Assert.IsFalse(InIrr(apic, 0x41), "masked");
        Write(apic, LvtTimer, (1u << 17) | 0x41);
        machine.Clock.AdvanceTo(300);
        Assert.IsTrue(InIrr(apic, 0x41));
    }

    [TestMethod]
    public void AMaskedPeriodicTimerQueuesNoEventsYetKeepsCounting()
    {
        using var machine = Create();
        var apic = machine.LocalApics[1];
        Enable(apic);
        var before = machine.Clock.NextDeadline;
        Write(apic, DivideConfig, 0xB);
        Write(apic, LvtTimer, (1u << 17) | (1u << 16) | 0x43);
        Write(apic, InitialCount, 1);
        Assert.AreEqual(before, machine.Clock.NextDeadline, "a period of one cycle, masked: nothing to deliver, nothing queued");
        Write(apic, InitialCount, 10);
        machine.Clock.AdvanceTo(1003);
        Assert.AreEqual(7u, Read(apic, CurrentCount), "still counting: 1003 cycles into periods of 10");
        Write(apic, LvtTimer, (1u << 17) | 0x43);
        Assert.AreEqual(1010UL, machine.Clock.NextDeadline, "unmasked: the next period boundary");
    }

    [TestMethod]
    public void TscDeadlineModeFiresWhenTheTscReachesTheDeadline()
    {
        using var machine = Create();
        var cpu = machine.Processors[1];
        var apic = machine.LocalApics[1];
        Enable(apic);
        Assert.IsTrue(cpu.TryWriteMsr(Msr.TscDeadline, 500));
        Assert.IsTrue(cpu.TryReadMsr(Msr.TscDeadline, out var ignored) && ignored == 0, "ignored outside TSC-deadline mode");
        Write(apic, LvtTimer, (2u << 17) | 0x42);
        cpu.TscOffset = 1000;
        Assert.IsTrue(cpu.TryWriteMsr(Msr.TscDeadline, 1500));
        Assert.IsTrue(cpu.TryReadMsr(Msr.TscDeadline, out var armed) && armed == 1500);
        Write(apic, InitialCount, 7);
        Assert.AreEqual(0u, Read(apic, InitialCount), "the initial count is ignored in TSC-deadline mode");
        machine.Clock.AdvanceTo(499);
        Assert.IsFalse(InIrr(apic, 0x42));
        machine.Clock.AdvanceTo(500);
        Assert.IsTrue(InIrr(apic, 0x42), "TSC = cycles + 1000 reached 1500");
        Assert.IsTrue(cpu.TryReadMsr(Msr.TscDeadline, out var after) && after == 0, "disarmed once it fired");
    }

    [TestMethod]
    public void X2ApicModeUsesMsrsWithTheInitialIdAndADerivedLdr()
    {
        // SDM 11.12: x2APIC ID = initial APIC ID; LDR = cluster (ID[19:4]) << 16 | 1 << ID[3:0].
        using var machine = Create(3);
        var cpu = machine.Processors[2];
        Assert.IsFalse(cpu.TryReadMsr(0x802, out _), "x2APIC MSRs #GP in xAPIC mode");
        Assert.IsTrue(cpu.TryWriteMsr(Msr.ApicBase, cpu.ApicBase | Processor.ApicBaseX2Apic));
        Assert.IsTrue(cpu.TryReadMsr(0x802, out var id) && id == 2);
        Assert.IsTrue(cpu.TryReadMsr(0x80D, out var ldr) && ldr == 1u << 2);
        Assert.IsTrue(cpu.TryReadMsr(0x803, out var version) && version == 0x0005_0014);
        Assert.IsFalse(cpu.TryWriteMsr(0x802, 5), "the ID is read-only");
        Assert.IsFalse(cpu.TryReadMsr(0x80B, out _), "EOI is write-only");
        Assert.IsFalse(cpu.TryWriteMsr(0x80B, 1), "EOI takes only 0");
        Assert.IsFalse(cpu.TryWriteMsr(0x808, 0x100), "reserved TPR bits");
        Assert.IsTrue(cpu.TryWriteMsr(0x808, 0x30));
        Assert.AreEqual(3UL, cpu.Cr8);
        Assert.IsFalse(cpu.TryWriteMsr(Msr.ApicBase, cpu.ApicBase & ~Processor.ApicBaseX2Apic), "x2APIC back to xAPIC is invalid (SDM 11.12.5)");
    }

    [TestMethod]
    public void InvalidApicBaseTransitionsRaiseGp()
    {
        using var machine = Create();
        var cpu = machine.Processors[1];
        var enabled = cpu.ApicBase;
        Assert.IsFalse(cpu.TryWriteMsr(Msr.ApicBase, (enabled & ~Processor.ApicBaseEnable) | Processor.ApicBaseX2Apic), "EXTD without EN");
        Assert.IsFalse(cpu.TryWriteMsr(Msr.ApicBase, enabled | 1), "reserved bit 0");
        Assert.IsTrue(cpu.TryWriteMsr(Msr.ApicBase, enabled & ~Processor.ApicBaseEnable));
        Assert.IsFalse(cpu.TryWriteMsr(Msr.ApicBase, enabled | Processor.ApicBaseX2Apic), "disabled straight to x2APIC");
        Assert.IsTrue(cpu.TryWriteMsr(Msr.ApicBase, enabled));
    }

    [TestMethod]
    public void TheApicAnnouncesItselfInCpuid()
    {
        using var machine = Create();
        var cpu = machine.Processors[1];
        cpu.Cpuid(1, 0, out _, out var ebx, out var ecx, out var edx);
        Assert.AreEqual(1u, ebx >> 24, "initial APIC ID");
        Assert.AreNotEqual(0u, edx & (1u << 9), "APIC on chip");
        Assert.AreNotEqual(0u, ecx & (1u << 21), "x2APIC");
        Assert.AreNotEqual(0u, ecx & (1u << 24), "TSC-deadline");
    }

    [TestMethod]
    [DataRow(CpuVendor.Intel, true)]
    [DataRow(CpuVendor.Amd, false)]
    public void APerformanceCounterOverflowRaisesThePerformanceLvtVector(CpuVendor vendor, bool masksTheEntry)
    {
        // SDM vol. 3, 18.2.1.1 and 11.5.1: an overflow with the PMI enabled interrupts through the LVT
        // performance-counter entry; on Intel processors the interrupt also sets that entry's mask bit.
        const uint lvtPerformance = 0x340;
        using var machine = new Machine(new MachineConfig { Cpus = 1, Vendor = vendor });
        var apic = machine.LocalApics[0];
        Enable(apic);
        Write(apic, lvtPerformance, 0x4E);
        apic.PerformanceCounterOverflow();
        Assert.IsTrue(InIrr(apic, 0x4E));
        Assert.AreEqual(masksTheEntry ? 0x1004Eu : 0x4Eu, Read(apic, lvtPerformance));
        Assert.AreEqual(0x4E, apic.Acknowledge());
        Write(apic, Eoi, 0);
        Write(apic, lvtPerformance, 0x1004F);
        apic.PerformanceCounterOverflow();
        Assert.IsFalse(InIrr(apic, 0x4F), "a masked entry raises nothing");
    }
}
