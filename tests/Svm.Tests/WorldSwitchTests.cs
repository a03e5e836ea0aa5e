using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>VMRUN and #VMEXIT as a whole (AMD APM vol. 2, 15.5 and 15.6): host code in a loop, state switched and restored, modeled cost, the host's notification.</summary>
[TestClass]
public sealed class WorldSwitchTests
{
    [TestMethod]
    public void HostCodeRunsTheGuestInALoopAdvancingRipToNRip()
    {
        using var m = new SvmTestMachine();
        m.Cpu.HostOwned = false;
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.inc(edi); a.cpuid(); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        m.Code(64, SvmTestMachine.HostCode, a =>
        {
            var top = a.CreateLabel();
            a.mov(rsi, SvmTestMachine.VmcbPa);
            a.mov(ecx, 10);
            a.Label(ref top);
            a.mov(rax, rsi);
            a.vmrun();
            a.mov(rbx, __qword_ptr[rsi + VmcbLayout.NRip]);
            a.mov(__qword_ptr[rsi + VmcbLayout.Rip], rbx);
            a.dec(ecx);
            a.jnz(top);
            a.hlt();
        });
        var cycles = m.Cpu.Cycles;
        var retired = m.Cpu.InstructionsRetired;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 1_000_000));
        Assert.AreEqual(10UL, m.Cpu.Rdi & 0xFFFFFFFF, "ten CPUID exits, one per VMRUN; GPRs other than RAX and RSP are not switched");
        Assert.AreEqual(0UL, m.Cpu.Rcx & 0xFFFFFFFF);
        Assert.AreEqual(SvmExitCode.Cpuid, m.Vmcb.ExitCode);
        var costs = m.Unit.Costs;
        Assert.AreEqual(m.Cpu.InstructionsRetired - retired + 10 * (costs.Vmrun + costs.SvmExit), m.Cpu.Cycles - cycles,
            "one cycle per retired instruction plus the modeled VMRUN and #VMEXIT costs");
    }

    [TestMethod]
    public void HostStateIsRestoredAndGuestStateSaved()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, 0x5555); a.mov(esp, 0x6000); a.cli(); a.mov(ebx, cr0); a.or(ebx, 8); a.mov(cr0, ebx); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x202);
        m.Vmcb.Write(VmcbLayout.Cr2, 8, 0xABC);
        m.Cpu.Rax = 0x1111;
        m.Cpu.Rsp = 0x7F000;
        m.Cpu.Cr2 = 0x999;
        var hostCr3 = m.Cpu.Cr3;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x5555UL, v.Rax, "guest RAX saved");
        Assert.AreEqual(0x6000UL, v.Read(VmcbLayout.Rsp, 8), "guest RSP saved");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.Rflags, 8) & Rflags.IF, "guest RFLAGS saved");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.InterruptShadow, 8) & 2, "GUEST_INTERRUPT_MASK: the guest's IF was clear");
        Assert.AreEqual(Cr0.TS, v.Read(VmcbLayout.Cr0, 8) & Cr0.TS, "guest CR0 saved");
        Assert.AreEqual(0xABCUL, v.Read(VmcbLayout.Cr2, 8));
        Assert.AreEqual(0x9BUL, v.Read(VmcbLayout.Cs + 2, 2) & 0xFF, "CS attrib in the VMCB format");
        Assert.AreEqual(0x1111UL, m.Cpu.Rax, "host RAX restored");
        Assert.AreEqual(0x7F000UL, m.Cpu.Rsp);
        Assert.AreEqual(hostCr3, m.Cpu.Cr3);
        Assert.AreEqual(0UL, m.Cpu.Cr0 & Cr0.TS);
        Assert.IsTrue(m.Cpu.InLongMode);
        Assert.AreEqual(64, m.Cpu.CodeBitness);
        Assert.AreEqual(0, m.Cpu.Cpl);
        Assert.AreEqual(0xABCUL, m.Cpu.Cr2, "CR2 is not part of the host state: it keeps the guest's value");
        Assert.AreEqual(SvmTestMachine.VmcbPa, m.Unit.VmcbAddress);
        Assert.AreEqual(SvmExitCode.Hlt, m.Unit.LastExitCode);
    }

    [TestMethod]
    public void TscOffsetAppliesOnlyInsideTheGuest()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.rdtsc(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.TscOffset, 8, 1UL << 40);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(1UL << 8, (v.Rax | (m.Cpu.Rdx << 32)) >> 32, "guest TSC = host TSC + TSC_OFFSET (15.30.5)");
        Assert.AreEqual(0L, m.Cpu.TscOffset, "the host's TSC has no offset");
    }

    [TestMethod]
    public void AHostOwnedProcessorEndsTheSliceWithTheExitOnceHostStateIsLoaded()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.cpuid(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        m.Code(64, SvmTestMachine.HostCode, a => a.ud2());
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        Assert.AreEqual(StopReason.VmExit, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        Assert.AreEqual(SvmTestMachine.HostCode, m.Cpu.Rip, "the host's RIP is loaded, and nothing there ran (a UD2 would fault)");
        Assert.IsNull(m.Cpu.PendingException);
        Assert.IsFalse(m.Unit.InGuest);
        var exit = m.Cpu.LastGuestExit;
        Assert.AreEqual(GuestExitSource.Svm, exit.Source);
        Assert.AreEqual(SvmExitCode.Cpuid, exit.Code);
        Assert.AreEqual(2u, exit.InstructionLength, "nRIP − RIP of CPUID (APM vol. 2, 15.7.1)");
    }

    [TestMethod]
    public void GuestVmsaveUnderNestedPagingWritesThroughTheNestedTables()
    {
        using var m = new SvmTestMachine();
        var tables = new NptTables(m.Memory, 0xA00000);
        tables.MapRange(0x400000, 0);
        tables.Map4K(0x60000, 0x900000);
        m.Vmcb.Write(VmcbLayout.NpEnable, 8, 1);
        m.Vmcb.Write(VmcbLayout.NCr3, 8, tables.Root);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.GuestProgram(a => { a.mov(eax, 0x60000); a.vmsave(); a.hlt(); });
        m.Cpu.Star = 0x1234_5678;
        m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x1234_5678UL, m.Memory.Read(0x900000 + VmcbLayout.Star, 8), "guest-physical 60000h is host-physical 900000h");
        Assert.AreEqual(0UL, m.Memory.Read(0x60000 + VmcbLayout.Star, 8));
    }

    [TestMethod]
    public void RoundTripsDoNotAllocate()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.cpuid(); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        void RoundTrips(int n)
        {
            for (var i = 0; i < n; i++)
            {
                m.Unit.Vmrun(SvmTestMachine.VmcbPa);
                m.Cpu.Run(m.Cpu.Cycles + 10_000);
                m.Vmcb.Write(VmcbLayout.Rip, 8, m.Vmcb.NRip);
            }
        }
        RoundTrips(100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        RoundTrips(1000);
        Assert.AreEqual(before, GC.GetAllocatedBytesForCurrentThread(), "VMRUN, the guest's CPUID and #VMEXIT allocate nothing");
        Assert.AreEqual(1100 + 0, m.Exits);
    }

    [TestMethod]
    public void GuestTrapFlagTrapsAfterTheFirstGuestInstruction()
    {
        // APM vol. 2, 15.5.1 (VMRUN and TF/RF): a guest EFLAGS.TF of 1 loaded by VMRUN does not trap
        // between the VMRUN and the first guest instruction, but after that instruction completes.
        using var m = new SvmTestMachine();
        m.Cpu.HostOwned = false;
        m.GuestProgram(a => { a.nop(); a.nop(); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.DB);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.Rflags, 8, 0x102);
        m.Code(64, SvmTestMachine.HostCode, a => { a.mov(rax, SvmTestMachine.VmcbPa); a.vmrun(); a.hlt(); });
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 100_000));
        Assert.AreEqual(SvmExitCode.Exception + ExceptionVector.DB, m.Vmcb.ExitCode);
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, m.Vmcb.Rip, "the single-step trap follows the first NOP");
        Assert.AreNotEqual(0UL, m.Vmcb.Read(VmcbLayout.Dr6, 8) & (1UL << 14), "the #DB's status (DR6.BS) is in the VMCB's DR6 for the hypervisor");
    }

    [TestMethod]
    public void VmrunCanonicalizesTheSegmentBasesItLoads()
    {
        // APM vol. 2, 15.5.1: VMRUN and #VMEXIT canonicalize (sign-extend to bit 63) all base
        // addresses in the segment registers that have been loaded.
        using var m = new SvmTestMachine();
        m.LongModeGuest();
        m.GuestProgram(a => a.hlt(), 64);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Segment(VmcbLayout.Ds, SvmTestMachine.Data, 0xC93, 0xFFFFFFFF, 0x0000_8000_0000_1000UL);
        m.Vmcb.Segment(VmcbLayout.Es, SvmTestMachine.Data, 0xC93, 0xFFFFFFFF, 0x1234_0000_0000_2000UL);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0xFFFF_8000_0000_1000UL, v.Read(VmcbLayout.Ds + VmcbLayout.SegmentBase, 8), "bit 47 sign-extended");
        Assert.AreEqual(0x0000_0000_0000_2000UL, v.Read(VmcbLayout.Es + VmcbLayout.SegmentBase, 8), "bit 47 clear: the upper bits cleared");
    }

    [TestMethod]
    public void WithoutNestedPagingAGuestPatWriteAltersTheHostPat()
    {
        // APM vol. 2, 15.25.8: with nested paging disabled there is no gPAT; guest writes to the PAT
        // MSR that are not intercepted alter the host PAT, which #VMEXIT leaves as the guest wrote it.
        using var m = new SvmTestMachine();
        const ulong pat = 0x0001040500010406UL;
        m.GuestProgram(a => { a.mov(ecx, 0x277); a.mov(eax, unchecked((uint)pat)); a.mov(edx, (uint)(pat >> 32)); a.wrmsr(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(pat, m.Cpu.Pat);
    }
}
