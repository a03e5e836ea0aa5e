using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>Reproducers of divergences from the SDM found in review, one per rule.</summary>
[TestClass]
public sealed class SdmReviewTests
{
    [TestMethod]
    public void Idiv32OfMostNegativeDividendByMinusOneRaisesDivideError_IDIV()
    {
        // IDIV: #DE when the quotient is too large for the destination (2^63 does not fit in EAX).
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(edx, 0x80000000);
            a.xor(eax, eax);
            a.mov(ecx, -1);
            a.idiv(ecx);
        });
        Assert.AreEqual(ExceptionVector.DE, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress + 12, g.Stack(0), "#DE is a fault: EIP of the IDIV");
    }

    [TestMethod]
    public void Idiv64OfMostNegativeDividendByMinusOneRaisesDivideError_IDIV()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rdx, 0x8000000000000000UL);
            a.xor(eax, eax);
            a.mov(rcx, -1L);
            a.idiv(rcx);
        });
        Assert.AreEqual(ExceptionVector.DE, g.RunToVector());
    }

    [TestMethod]
    public void UserFetchFromSupervisorPageFaultsAfterTheKernelRanIt_4_6_1()
    {
        // 4.6.1: user-mode fetches are not allowed from supervisor-mode addresses, whatever ran there before.
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.Pae);
        t.IdentityMap(0, 0x100000, RW | US);
        t.Map(0x400000, 0x500000, RW);
        g.Memory.Write(0x500000, 1, 0xC3);
        g.Code(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(eax, 0x400000);
            a.call(eax);
            a.push(GuestRunner.UserData);
            a.push(0x90000);
            a.push(2);
            a.push(GuestRunner.UserCode);
            a.push(0x20000);
            a.iretd();
        });
        g.Code(32, 0x20000, a =>
        {
            a.mov(eax, 0x400000);
            a.call(eax);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t);
        g.InstallIdt(32);
        g.AddUserSegmentsAndTss32();
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(5UL, g.Stack(0), "P and U/S in the error code (table 4-11... 4.7)");
        Assert.AreEqual(0x400000UL, g.Cpu.Cr2);
    }

    [TestMethod]
    public void FaultDeliveringIntNWithAnExceptionVectorIsNotADoubleFault_Table6_4()
    {
        // Table 6-4: all INT n are benign, so #NP while delivering INT 14 is delivered, not turned into #DF.
        using var g = GuestRunner.Protected(a => a.@int(ExceptionVector.PF));
        g.SetGdt(8, Descriptors.Code32 & ~(1UL << 47));
        g.SetIdtGate32(ExceptionVector.PF, Descriptors.Gate(Descriptors.InterruptGate32, 0x40, 0, 3));
        Assert.AreEqual(ExceptionVector.NP, g.RunToVector());
        Assert.AreEqual(0x40UL, g.Stack(0), "the selector, EXT clear for INT n (6.13)");
    }

    [TestMethod]
    public void FaultDeliveringInt8IsDeliveredNotShutdown_Table6_4()
    {
        using var g = GuestRunner.Protected(a => a.@int(ExceptionVector.DF));
        g.SetIdtGate32(ExceptionVector.DF, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, 0, 3, present: false));
        Assert.AreEqual(ExceptionVector.NP, g.RunToVector());
        Assert.AreEqual((ulong)ExceptionVector.DF * 8 + 2, g.Stack(0));
    }

    [TestMethod]
    public void FarJumpToConformingCodeKeepsCpl_5_8_1_2()
    {
        // 5.8.1.2: a transfer to a conforming segment does not change CPL, whatever the segment's DPL.
        using var g = GuestRunner.Protected(a => a.nop());
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFFF, 0x9F, 0xC));
        g.Code(32, 0x20000, a => a.jmp(0x43, 0x21000));
        g.Code(32, 0x21000, a =>
        {
            a.mov(eax, cr0);
            a.hlt();
        });
        g.EnterUser32(0x20000, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "MOV from CR0 at CPL 3");
        Assert.AreEqual(0x21000UL, g.Stack(1), "faulting EIP");
        Assert.AreEqual(0x43UL, g.Stack(2), "CS keeps RPL 3");
    }

    [TestMethod]
    public void SmapFaultsAReadAfterClacEvenWhenTheSameReadSucceededUnderStac_4_6_1()
    {
        // 4.6.1: with CR4.SMAP, an explicit supervisor read of a user page is allowed only while EFLAGS.AC = 1.
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, 0x100000, RW);
        t.Map(0x400000, 0x500000, RW | US);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rbx, 0x400000);
            a.stac();
            a.mov(eax, __dword_ptr[rbx]);
            a.clac();
            a.mov(eax, __dword_ptr[rbx]);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, Cr0.WP, Cr4.SMAP);
        g.InstallIdt(64);
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(1UL, g.Stack(0, 8), "P: a supervisor read");
        Assert.AreEqual(0x400000UL, g.Cpu.Cr2);
    }

    [TestMethod]
    public void InterruptFrameBeyondTheNewStackLimitFaultsInsteadOfWriting_6_12_1()
    {
        // INT n (protected mode, inter-privilege): #SS(new SS) when the new stack has no room for the frame;
        // here every delivery hits the same stack, so #SS, then #DF, then shutdown (table 6-5).
        using var g = GuestRunner.Protected(a => a.@int(0x40));
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFF, 0x93, 0x4));
        g.AddUserSegmentsAndTss32(esp0: 0x20008);
        g.Memory.Write(GuestRunner.TssAddress + 8, 2, 0x40);
        g.Memory.Write(0x1FFF8, 8, 0x1122334455667788UL);
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(StopReason.Shutdown, g.Run());
        Assert.AreEqual(0x1122334455667788UL, g.Memory.Read(0x1FFF8, 8), "nothing written beyond the limit");
    }

    [TestMethod]
    public void CpuidBrandLeavesAllocateNothing_DesignNoAllocationPerInstruction()
    {
        // DESIGN.md: no allocation on any per-instruction path; CPUID 8000_0002h-8000_0004h is one (SDM vol. 2, CPUID).
        using var g = GuestRunner.Protected(a =>
        {
            var loop = a.CreateLabel();
            a.mov(esi, 1000);
            a.Label(ref loop);
            a.mov(eax, 0x80000002);
            a.cpuid();
            a.dec(esi);
            a.jnz(loop);
            a.hlt();
        });
        g.Cpu.Step();
        g.Cpu.Step();
        var before = GC.GetAllocatedBytesForCurrentThread();
        g.Run();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.IsTrue(allocated < 10_000, $"{allocated} bytes allocated by 1000 CPUIDs");
    }
}
