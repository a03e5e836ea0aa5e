using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Microkernels.Nova;
using Sim.Vmx;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// Real VM exits of a small 64-bit guest on a VMCS NOVA's way: the VMM's startup reply loads the guest state through
/// save_vmx, the guest runs, and load_vmx reports the exit (portal, RIP, instruction length, qualification) in the UTCB.
/// </summary>
[TestClass]
public sealed class VmxExitDeliveryTests
{
    private const ulong U = NovaVmxMachine.Utcb;
    private const Mtd All = (Mtd)0x87FF_FFFF & ~Mtd.Ctrl;

    private static void Put(NovaVmxMachine m, int offset, ulong value, int size = 8) => m.Memory.Write(U + (ulong)offset, size, value);

    private static void Segment(NovaVmxMachine m, int at, ushort sel, ushort ar, uint limit, ulong b)
    {
        Put(m, at, sel, 2); Put(m, at + 2, ar, 2); Put(m, at + 4, limit, 4); Put(m, at + 8, b);
    }

    /// <summary>The reply to the startup exit: a 64-bit guest at <see cref="NovaVmxMachine.GuestCode"/> in the host's environment.</summary>
    private static void StartupReply(NovaVmxMachine m)
    {
        m.Memory.Zero(U, 4096);
        Put(m, 0x30, NovaVmxMachine.GuestCode);
        Put(m, 0x28, 0);
        Put(m, 0x38, 2);
        Put(m, 0x70, NovaVmxMachine.GuestStack);
        Put(m, 0x50, 0x1111);
        Segment(m, 0x1A8, NovaVmxMachine.CodeSelector, 0xA9B, 0xFFFFFFFF, 0);
        foreach (var at in new[] { 0x198, 0x1B8, 0x1C8, 0x1D8, 0x1E8 }) Segment(m, at, NovaVmxMachine.DataSelector, 0xC93, 0xFFFFFFFF, 0);
        Segment(m, 0x208, NovaVmxMachine.TssSelector, 0x8B, 0x67, NovaVmxMachine.TssAddress);
        Segment(m, 0x1F8, 0, 0x1000, 0, 0);
        Segment(m, 0x218, 0, 0, 0x27, NovaVmxMachine.GdtAddress);
        Segment(m, 0x228, 0, 0, 0xFFF, NovaVmxMachine.IdtAddress);
        Put(m, 0xE8, Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET);
        Put(m, 0xF8, NovaVmxMachine.PageTables);
        Put(m, 0x100, Cr4.PAE);
        Put(m, 0x178, 0x400);
        Put(m, 0x140, Efer.LME | Efer.LMA);
        Put(m, 0x40, 0, 4); Put(m, 0x44, 0, 4);
        Put(m, 0x48, 0, 4); Put(m, 0x4C, 0, 4);
        Put(m, 0x20, (uint)(All | Mtd.Ctrl));
        Put(m, 0xE0, 0, 4); Put(m, 0xE4, 0, 4);
    }

    private static uint RunToExit(NovaVmxMachine m, bool launch)
    {
        m.Regs.LoadInto(m.Cpu, svm: false);
        var entered = launch ? m.Vmx.Vmlaunch() : m.Vmx.Vmresume();
        Assert.AreEqual(VmxResult.Succeed, entered, $"{m.Vmx.LastExit}");
        Assert.AreEqual(StopReason.VmExit, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        m.Regs.SaveFrom(m.Cpu, svm: false);
        return VmxStateTransfer.ExitPortal(m.Vmx, m.Regs);
    }

    private static ulong Tsc(Processor cpu) => (ulong)((long)cpu.Cycles + cpu.TscOffset);

    [TestMethod]
    public void CpuidThenHltReachTheirPortalsWithRipAndLength()
    {
        using var m = new NovaVmxMachine();
        m.Code(a => { a.mov(rbx, 0x2222); a.cpuid(); a.mov(rsi, 0x5151); a.hlt(); });
        StartupReply(m);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(10u, RunToExit(m, launch: true), "CPUID is exit reason 10");
        m.FillUtcb();
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, U, All, Tsc(m.Cpu));
        Assert.AreEqual(10UL, m.Memory.Read(U + 0x250, 8), "exit_value");
        var cpuidAt = NovaVmxMachine.GuestCode + 10;
        Assert.AreEqual(cpuidAt, m.Memory.Read(U + 0x30, 8), "RIP of CPUID (after the 10-byte MOV)");
        Assert.AreEqual(2UL, m.Memory.Read(U + 0x28, 8), "CPUID is two bytes");
        Assert.AreEqual(0x2222UL, m.Memory.Read(U + 0x68, 8), "RBX from the frame");
        Assert.AreEqual(0x1111UL, m.Memory.Read(U + 0x50, 8), "RAX as the VMM set it");
        Assert.AreEqual(NovaVmxMachine.GuestStack, m.Memory.Read(U + 0x70, 8));
        Assert.AreEqual(0xA9BUL, m.Memory.Read(U + 0x1A8 + 2, 2), "CS AR in compact form");
        Assert.AreEqual(Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET, m.Memory.Read(U + 0xE8, 8));
        Assert.AreEqual(Cr4.PAE, m.Memory.Read(U + 0x100, 8), "VMXE is hidden by the CR4 read shadow");
        Assert.AreEqual(0xA5A5_A5A5_A5A5_A5A5UL, m.Memory.Read(U + 0xE0, 8), "ctrl[] is not filled");

        // The VMM emulates CPUID and skips it: RIP += inst_len.
        m.Memory.Write(U + 0x30, 8, cpuidAt + 2);
        m.Memory.Write(U + 0x50, 8, 0xABCD);
        m.Memory.Write(U + 0x20, 8, (uint)(Mtd.RipLen | Mtd.GprAcdb));
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(12u, RunToExit(m, launch: false), "HLT is exit reason 12");
        m.FillUtcb();
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, U, Mtd.RipLen | Mtd.GprAcdb | Mtd.GprBsd, Tsc(m.Cpu));
        Assert.AreEqual(12UL, m.Memory.Read(U + 0x250, 8));
        Assert.AreEqual(cpuidAt + 2 + 10, m.Memory.Read(U + 0x30, 8), "RIP of HLT after the 10-byte MOV");
        Assert.AreEqual(1UL, m.Memory.Read(U + 0x28, 8));
        Assert.AreEqual(0x5151UL, m.Memory.Read(U + 0x80, 8), "RSI written by the guest");
        Assert.AreEqual(0xABCDUL, m.Memory.Read(U + 0x50, 8), "RAX from the reply");
    }

    [TestMethod]
    public void EptViolationDeliversQualificationAndGuestPhysicalAddress()
    {
        using var m = new NovaVmxMachine();
        m.Code(a => { a.mov(rax, NovaVmxMachine.EptHole + 0x18); a.mov(rcx, __qword_ptr[rax]); a.hlt(); });
        StartupReply(m);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(48u, RunToExit(m, launch: true));
        m.FillUtcb();
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, U, Mtd.Qual | Mtd.RipLen, Tsc(m.Cpu));
        Assert.AreEqual(48UL, m.Memory.Read(U + 0x250, 8));
        Assert.AreEqual(NovaVmxMachine.EptHole + 0x18, m.Memory.Read(U + 0xD8, 8), "qual[1]: guest-physical address");
        var qual = m.Memory.Read(U + 0xD0, 8);
        Assert.AreEqual(1UL, qual & 7, "a data read (SDM table 28-7: bit 0), not permitted by any EPT entry (bits 5:3 = 0)");
        Assert.AreEqual(0UL, qual & 0x38);
        Assert.AreEqual(NovaVmxMachine.GuestCode + 10, m.Memory.Read(U + 0x30, 8));
    }

    [TestMethod]
    public void TscReportsHostTimeAndTheCurrentOffset()
    {
        using var m = new NovaVmxMachine();
        m.Code(a => { a.rdtsc(); a.hlt(); });
        StartupReply(m);
        m.Memory.Write(U + 0x20, 8, (uint)(All | Mtd.Ctrl | Mtd.Tsc));
        m.Memory.Write(U + 0xE0, 4, ProcessorBasedControls.UseTscOffsetting);
        m.Memory.Write(U + 0x240, 8, 1_000_000);
        VmxStateTransfer.Save(m.Vmx, m.Regs, m.Memory, U);
        Assert.AreEqual(12u, RunToExit(m, launch: true));
        var host = Tsc(m.Cpu);
        m.FillUtcb();
        VmxStateTransfer.Load(m.Vmx, m.Regs, m.Memory, U, Mtd.Tsc | Mtd.GprAcdb, host);
        Assert.AreEqual(host, m.Memory.Read(U + 0x238, 8));
        Assert.AreEqual(1_000_000UL, m.Memory.Read(U + 0x240, 8));
        var guestTsc = (m.Memory.Read(U + 0x60, 8) << 32) | (uint)m.Memory.Read(U + 0x50, 8);
        Assert.IsTrue(guestTsc >= 1_000_000 && guestTsc < host + 1_000_000, $"guest TSC {guestTsc} includes the offset");
    }
}
