using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// What a VM exit records of the guest beyond its registers: the PDPTEs in use under EPT (SDM vol. 3,
/// 27.3.4), the MSR-store list with IA32_TSC (27.4), IDT-vectoring information for an event delivered
/// through a task gate (27.2.4, 25.4.2), and the activity state when the preemption timer ends a HLT
/// with interrupts off (25.5.1).
/// </summary>
[TestClass]
public sealed class GuestStateSaveTests
{
    private const ulong G = VmxMachine.GuestCode;

    [TestMethod]
    public void PdptesInUseUnderEptAreSavedOnExit()
    {
        using var m = new VmxMachine().Ready();
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        ept.Map(0, 0, level: 3);
        // Guest-physical 40002000h (the guest's new PDPT) lives at host-physical 380000h.
        ept.Map(0x40002000, 0x380000);
        m.Write(VmcsField.EptPointer, ept.Eptp());
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt);
        const ulong pd = 0x301000;
        for (ulong i = 0; i < 512; i++) m.Memory.Write(pd + i * 8, 8, (i << 21) | 0x83);
        ulong[] fresh = [pd | 1, 0x304000 | 1, 0, 0x305000 | 1];
        for (var i = 0; i < 4; i++) m.Memory.Write(0x380000 + (ulong)i * 8, 8, fresh[i]);
        m.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        m.Write(VmcsField.GuestIa32Efer, 0);
        m.Write(VmcsField.GuestCr3, 0x300000);
        m.Write(VmcsField.GuestPdpte0, pd | 1);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        m.Code(a => { a.mov(eax, 0x40002000); a.mov(cr3, eax); a.cpuid(); }, G, 32);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason);
        Assert.AreEqual(0x40002000UL, m.Read(VmcsField.GuestCr3));
        // 27.3.4: with EPT and PAE paging the exit saves the PDPTEs in use: those MOV to CR3 loaded through EPT.
        Assert.AreEqual(fresh[0], m.Read(VmcsField.GuestPdpte0));
        Assert.AreEqual(fresh[1], m.Read(VmcsField.GuestPdpte1));
        Assert.AreEqual(fresh[2], m.Read(VmcsField.GuestPdpte2));
        Assert.AreEqual(fresh[3], m.Read(VmcsField.GuestPdpte3));
    }

    [TestMethod]
    public void MsrStoreListRecordsTheTscAtTheExit()
    {
        using var m = new VmxMachine().Ready();
        const long offset = 1L << 40;
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.UseTscOffsetting);
        m.Write(VmcsField.TscOffset, (ulong)offset);
        m.Memory.Write(VmxMachine.MsrArea, 8, Msr.TimeStampCounter);
        m.Memory.Write(VmxMachine.MsrArea + 8, 8, 0);
        m.Write(VmcsField.VmExitMsrStoreAddress, VmxMachine.MsrArea);
        m.Write(VmcsField.VmExitMsrStoreCount, 1);
        m.Code(a =>
        {
            for (var i = 0; i < 20; i++) a.nop();
            a.rdtsc();
            a.shl(rdx, 32);
            a.or(rax, rdx);
            for (var i = 0; i < 20; i++) a.nop();
            a.cpuid();
        });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Cpuid, exit.BasicReason);
        var stored = m.Memory.Read(VmxMachine.MsrArea + 8, 8);
        var guestTsc = m.Cpu.Rax;
        // 27.4: the entry holds the value of IA32_TIME_STAMP_COUNTER when the exit happened: the
        // counter itself (the guest's RDTSC adds the TSC offset, 26.3), read after the guest's RDTSC
        // and before the host runs again.
        Assert.IsTrue(stored >= guestTsc - (ulong)offset, $"stored {stored}, the guest read {guestTsc - (ulong)offset} earlier");
        Assert.IsTrue(stored > guestTsc - (ulong)offset, "the counter moved on over the instructions after RDTSC");
        Assert.IsTrue(stored <= m.Cpu.TimeStampCounter, $"stored {stored}, the host reads {m.Cpu.TimeStampCounter} after the exit");
    }

    [TestMethod]
    public void SoftwareInterruptThroughATaskGateIsIdtVectoring()
    {
        const ulong idt = 0x7000;
        using var m = VmxMachine.ProtectedModeGuest(idt);
        m.Memory.Write(VmxMachine.GdtAddress + 0x30, 8, 0x0000890000000067UL | (0x6000UL << 16));
        m.Write(VmcsField.GuestGdtrLimit, 0x37);
        // A task gate (type 5, DPL 3) to TSS selector 30h for vector 30h.
        m.Memory.Write(idt + 0x30 * 8, 8, (0x30UL << 16) | (0xE5UL << 40));
        m.Code(a => a.@int(0x30), G, 32);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.TaskSwitch, exit.BasicReason);
        Assert.AreEqual(0x30UL | (3UL << 30), exit.ExitQualification, "source 3: a task gate in the IDT (table 28-2)");
        // 25.4.2, 27.2.4: the task switch happened while delivering INT 30h, which IDT-vectoring information records.
        Assert.AreEqual(0x80000000u | (4u << 8) | 0x30, exit.IdtVectoringInformation, "valid, software interrupt, vector 30h");
        Assert.AreEqual(2u, exit.InstructionLength, "INT n's length, for the VMM to re-inject it (27.2.5)");
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip), "RIP at the INT");
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip, "nothing more was delivered after the exit");
    }

    [TestMethod]
    public void ExceptionThroughATaskGateIsIdtVectoringWithItsErrorCode()
    {
        const ulong idt = 0x7000;
        using var m = VmxMachine.ProtectedModeGuest(idt);
        m.Memory.Write(VmxMachine.GdtAddress + 0x30, 8, 0x0000890000000067UL | (0x6000UL << 16));
        m.Write(VmcsField.GuestGdtrLimit, 0x37);
        m.Memory.Write(idt + 13 * 8, 8, (0x30UL << 16) | (0x85UL << 40));
        // A far jump to selector 40h, beyond the GDT limit: #GP(40h), delivered through the task gate.
        m.Code(a => a.jmp(0x40, 0), G, 32);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.TaskSwitch, exit.BasicReason);
        Assert.AreEqual(0x30UL | (3UL << 30), exit.ExitQualification);
        Assert.AreEqual(0x80000000u | 0x800u | (3u << 8) | 13, exit.IdtVectoringInformation, "valid, error code, hardware exception, #GP");
        Assert.AreEqual(0x40u, exit.IdtVectoringErrorCode);
    }

    [TestMethod]
    public void PreemptionTimerEndsAHaltWithInterruptsOff()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.cli(); a.hlt(); a.nop(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, 0, ProcessorBasedControls.HltExiting);
        m.SetControl(VmcsField.PinBasedVmExecutionControls, PinBasedControls.ActivateVmxPreemptionTimer);
        m.Write(VmcsField.VmxPreemptionTimerValue, 100);
        var start = m.Cpu.Cycles;
        var exit = m.LaunchAndRun();
        // 25.5.1: the timer counts down in the HLT state and its expiry causes a VM exit, whatever IF says.
        Assert.AreEqual(VmExitReason.VmxPreemptionTimerExpired, exit.BasicReason);
        Assert.AreEqual((ulong)ActivityState.Hlt, m.Read(VmcsField.GuestActivityState), "the guest was in HLT (27.3.4)");
        Assert.AreEqual(G + 2, m.Read(VmcsField.GuestRip), "past the HLT");
        Assert.IsTrue(m.Cpu.Cycles - start >= 100UL << VmxCapability.PreemptionTimerRate, "at the timer's expiry, not before");
    }
}
