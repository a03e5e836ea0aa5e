using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

/// <summary>
/// Exits caused by guest instructions, each from a guest program under the interpreter, with the
/// exit fields the SDM defines for them (vol. 3, 28.2: reason, qualification, instruction length
/// and information, linear address) and the guest RIP saved at the instruction.
/// </summary>
[TestClass]
public sealed class VmExitTests
{
    private const ulong G = VmxMachine.GuestCode;

    private static VmxMachine Guest(Action<Iced.Intel.Assembler> code, uint procSet = 0, uint proc2 = 0)
    {
        var m = new VmxMachine().Ready();
        m.Code(code);
        if (procSet != 0) m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, procSet);
        if (proc2 != 0)
        {
            m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
            m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, proc2);
        }
        return m;
    }

    private static void AssertExit(VmxMachine m, VmExitInfo exit, VmExitReason reason, ulong qualification, uint length, ulong rip)
    {
        Assert.AreEqual((uint)reason, exit.ExitReason, $"reason {exit.BasicReason}");
        Assert.AreEqual(qualification, exit.ExitQualification, "exit qualification");
        Assert.AreEqual(length, exit.InstructionLength, "VM-exit instruction length");
        Assert.AreEqual(rip, m.Read(VmcsField.GuestRip), "guest RIP saved at the instruction (28.3.3)");
    }

    [TestMethod]
    public void CpuidExitsUnconditionally()
    {
        using var m = Guest(a => { a.mov(eax, 0); a.cpuid(); });
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Cpuid, 0, 2, G + 5);
        Assert.AreEqual(0UL, m.Cpu.Rax & 0xFFFFFFFF, "CPUID did not execute");
    }

    [TestMethod]
    public void HltExitsOnlyWithHltExiting()
    {
        using var m = Guest(a => { a.hlt(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, 0, ProcessorBasedControls.HltExiting);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmlaunch());
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 1000));
        Assert.IsTrue(m.Unit.InNonRootOperation, "without HLT exiting the guest halts in non-root operation");
        Assert.AreEqual(ActivityState.Hlt, m.Cpu.Activity);
    }

    [TestMethod]
    public void UnconditionalIoExitingQualification()
    {
        using var m = Guest(a => { a.mov(al, 0x41); a.@out(0x80, al); }, ProcessorBasedControls.UnconditionalIoExiting);
        // Table 28-5: size - 1 in bits 2:0, OUT (bit 3 = 0), immediate operand (bit 6), port in 31:16.
        AssertExit(m, m.LaunchAndRun(), VmExitReason.IoInstruction, 0 | 0x40 | (0x80UL << 16), 2, G + 2);
        Assert.AreEqual(0, m.Bus.Writes.Count);
    }

    [TestMethod]
    public void IoBitmapsSelectThePortsThatExit()
    {
        using var m = Guest(a => { a.mov(dx, 0x70); a.@in(al, dx); a.mov(dx, 0x3F8); a.@in(eax, dx); },
            ProcessorBasedControls.UseIoBitmaps | ProcessorBasedControls.UnconditionalIoExiting);
        m.Write(VmcsField.IoBitmapA, VmxMachine.IoBitmapA);
        m.Write(VmcsField.IoBitmapB, VmxMachine.IoBitmapB);
        m.Memory.Write(VmxMachine.IoBitmapA + 0x3FA / 8, 1, 1 << (0x3FA % 8));
        var exit = m.LaunchAndRun();
        // Port 70h is clear in bitmap A (and the bitmaps override unconditional I/O exiting); a 4-byte IN at 3F8h covers 3FAh.
        AssertExit(m, exit, VmExitReason.IoInstruction, 3 | 8 | (0x3F8UL << 16), 1, G + 9);
        Assert.AreEqual(0x5AUL, m.Cpu.Rax & 0xFF, "IN AL, DX from port 70h executed");
    }

    [TestMethod]
    public void StringIoReportsLinearAddressAndInstructionInformation()
    {
        using var m = Guest(a => { a.mov(rsi, 0x61000); a.mov(ecx, 4); a.mov(dx, 0x8001); a.rep.outsw(); },
            ProcessorBasedControls.UseIoBitmaps);
        m.Write(VmcsField.IoBitmapA, VmxMachine.IoBitmapA);
        m.Write(VmcsField.IoBitmapB, VmxMachine.IoBitmapB);
        m.Memory.Write(VmxMachine.IoBitmapB, 1, 2);
        var exit = m.LaunchAndRun();
        AssertExit(m, exit, VmExitReason.IoInstruction, 1 | 0x10 | 0x20 | (0x8001UL << 16), 3, G + 19);
        Assert.AreEqual(0x61000UL, exit.GuestLinearAddress, "the guest-linear address of the source (28.2.1)");
        Assert.AreEqual((2u << 7) | (3u << 15), exit.InstructionInformation, "64-bit address size, DS (table 28-8)");
    }

    [TestMethod]
    public void Cr3LoadExitingAndTargetValues()
    {
        using var m = Guest(a => { a.mov(rax, cr3); a.mov(cr3, rax); a.mov(rdx, 0x100000 + 0x5000); a.mov(cr3, rdx); },
            ProcessorBasedControls.Cr3LoadExiting);
        m.Write(VmcsField.Cr3TargetCount, 1);
        m.Write(VmcsField.Cr3TargetValue0, VmxMachine.PageTables);
        // MOV to CR3 of a target value does not exit; any other value does (table 28-3: CR 3, access 0, GPR 2 = RDX).
        AssertExit(m, m.LaunchAndRun(), VmExitReason.ControlRegisterAccess, 3 | (2UL << 8), 3, G + 16);
    }

    [TestMethod]
    public void Cr3StoreExiting()
    {
        using var m = Guest(a => { a.mov(rbx, cr3); }, ProcessorBasedControls.Cr3StoreExiting);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.ControlRegisterAccess, 3 | (1UL << 4) | (3UL << 8), 3, G);
    }

    [TestMethod]
    public void Cr0GuestHostMaskAndReadShadow()
    {
        using var m = Guest(a =>
        {
            a.mov(rax, cr0);
            a.mov(rbx, rax);
            a.or(rbx, 0x10000);
            a.mov(cr0, rbx);
            a.or(rbx, 0x20);
            a.mov(cr0, rbx);
        });
        m.Write(VmcsField.Cr0GuestHostMask, Cr0.NE);
        m.Write(VmcsField.Cr0ReadShadow, VmxMachine.HostCr0 & ~Cr0.NE);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0UL, m.Cpu.Rax & Cr0.NE, "MOV from CR0 reads the shadow of a host-owned bit (26.3)");
        // The first write leaves NE as the shadow has it (0): no exit, and the real NE stays 1; WP is guest-owned and changes.
        Assert.AreNotEqual(0UL, m.Read(VmcsField.GuestCr0) & Cr0.WP, "the non-exiting write set WP");
        Assert.AreNotEqual(0UL, m.Read(VmcsField.GuestCr0) & Cr0.NE, "and left the host-owned NE as it was");
        // The second sets NE, which differs from the shadow: exit, table 28-3 (CR 0, MOV to CR, GPR 3 = RBX).
        AssertExit(m, exit, VmExitReason.ControlRegisterAccess, 3UL << 8, 3, G + 20);
    }
    [TestMethod]
    public void CltsExitsWhenTsIsHostOwnedAndSetInTheShadow()
    {
        using var m = Guest(a => { a.clts(); });
        m.Write(VmcsField.Cr0GuestHostMask, Cr0.TS);
        m.Write(VmcsField.Cr0ReadShadow, Cr0.TS);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.ControlRegisterAccess, 2UL << 4, 2, G);
    }

    [TestMethod]
    public void LmswExitReportsItsSourceData()
    {
        using var m = Guest(a => { a.mov(eax, 0x0B); a.lmsw(ax); });
        m.Write(VmcsField.Cr0GuestHostMask, Cr0.MP);
        m.Write(VmcsField.Cr0ReadShadow, 0);
        // Table 28-3: access type 3 (LMSW), register operand (bit 6 = 0), source data in bits 31:16.
        AssertExit(m, m.LaunchAndRun(), VmExitReason.ControlRegisterAccess, (3UL << 4) | (0x0BUL << 16), 4, G + 5);
    }

    [TestMethod]
    public void Cr8ExitingAndTprShadow()
    {
        using var m = Guest(a => { a.mov(eax, 9); a.mov(cr8, rax); a.mov(rbx, cr8); a.mov(eax, 2); a.mov(cr8, rax); a.hlt(); },
            ProcessorBasedControls.UseTprShadow);
        m.Write(VmcsField.VirtualApicAddress, VmxMachine.VirtualApic);
        m.Memory.Write(VmxMachine.VirtualApic + 0x80, 4, 0x40);
        m.Write(VmcsField.TprThreshold, 4);
        var exit = m.LaunchAndRun();
        // MOV to CR8 writes VTPR[7:4] (30.3); reads come from it; dropping below the threshold is a trap-like exit (30.1.2).
        Assert.AreEqual(VmExitReason.TprBelowThreshold, exit.BasicReason);
        Assert.AreEqual(9UL, m.Cpu.Rbx, "MOV from CR8 read the virtual TPR");
        Assert.AreEqual(0x20UL, m.Memory.Read(VmxMachine.VirtualApic + 0x80, 4));
        Assert.AreEqual(G + 5 + 4 + 4 + 5 + 4, m.Read(VmcsField.GuestRip), "RIP past the MOV to CR8");
    }

    [TestMethod]
    public void Cr8LoadAndStoreExiting()
    {
        using var m = Guest(a => { a.mov(rcx, cr8); }, ProcessorBasedControls.Cr8StoreExiting);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.ControlRegisterAccess, 8 | (1UL << 4) | (1UL << 8), 4, G);
        using var n = Guest(a => { a.mov(cr8, rdx); }, ProcessorBasedControls.Cr8LoadExiting);
        AssertExit(n, n.LaunchAndRun(), VmExitReason.ControlRegisterAccess, 8 | (2UL << 8), 4, G);
    }

    [TestMethod]
    public void MovDrExiting()
    {
        using var m = Guest(a => { a.mov(rsi, dr7); }, ProcessorBasedControls.MovDrExiting);
        // Table 28-4: DR number in 2:0, direction bit 4 (1 = MOV from DR), GPR in 11:8.
        AssertExit(m, m.LaunchAndRun(), VmExitReason.MovDr, 7 | 0x10 | (6UL << 8), 3, G);
        using var n = Guest(a => { a.mov(dr1, rcx); }, ProcessorBasedControls.MovDrExiting);
        AssertExit(n, n.LaunchAndRun(), VmExitReason.MovDr, 1 | (1UL << 8), 3, G);
    }

    [TestMethod]
    public void MovDrExitTakesPriorityOverTheCr4DeFault()
    {
        using var m = Guest(a => { a.mov(rax, dr4); }, ProcessorBasedControls.MovDrExiting);
        m.Write(VmcsField.GuestCr4, m.Read(VmcsField.GuestCr4) | Cr4.DE);
        // 26.1.3: MOV-DR exits take priority over the #UD of DR4/DR5 with CR4.DE = 1; the qualification names DR4 as encoded.
        AssertExit(m, m.LaunchAndRun(), VmExitReason.MovDr, 4 | 0x10, 3, G);
    }

    [TestMethod]
    public void RdmsrWrmsrExitWithoutBitmaps()
    {
        using var m = Guest(a => { a.mov(ecx, 0x174); a.rdmsr(); });
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Rdmsr, 0, 2, G + 5);
        using var n = Guest(a => { a.mov(ecx, 0x174); a.wrmsr(); });
        AssertExit(n, n.LaunchAndRun(), VmExitReason.Wrmsr, 0, 2, G + 5);
    }

    [TestMethod]
    public void MsrBitmapsSelectMsrsAndDirections()
    {
        using var m = Guest(a =>
        {
            a.mov(ecx, 0x174); a.rdmsr();
            a.mov(ecx, 0xC0000081); a.mov(eax, 5); a.xor(edx, edx); a.wrmsr();
            a.mov(ecx, 0xC0000082); a.wrmsr();
        }, ProcessorBasedControls.UseMsrBitmaps);
        m.Write(VmcsField.MsrBitmap, VmxMachine.MsrBitmap);
        // Write bitmap for high MSRs at offset C00h: bit 82h set, bit 81h clear.
        m.Memory.Write(VmxMachine.MsrBitmap + 0xC00 + 0x82 / 8, 1, 1 << (0x82 % 8));
        var exit = m.LaunchAndRun();
        AssertExit(m, exit, VmExitReason.Wrmsr, 0, 2, G + 5 + 2 + 5 + 5 + 2 + 2 + 5);
        Assert.AreEqual(5UL, m.Cpu.Star, "WRMSR of IA32_STAR, clear in the bitmap, executed");
    }

    [TestMethod]
    public void ExceptionBitmapHardwareException()
    {
        using var m = Guest(a => { a.nop(); a.ud2(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        var exit = m.LaunchAndRun();
        // Interruption information (25.9.2): vector 6, type 3 (hardware exception), valid; no error code.
        AssertExit(m, exit, VmExitReason.ExceptionOrNmi, 0, 0, G + 1);
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation);
        Assert.AreEqual(0u, exit.IdtVectoringInformation);
    }

    [TestMethod]
    public void ExceptionBitmapGeneralProtectionWithErrorCode()
    {
        using var m = Guest(a => { a.mov(eax, 0x2B); a.mov(ds, ax); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 13);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000B0Du, exit.InterruptionInformation, "error code valid (bit 11)");
        Assert.AreEqual(0x28u, exit.InterruptionErrorCode, "loading a code selector into DS: #GP(selector)");
    }

    [TestMethod]
    public void PageFaultErrorCodeMaskAndMatch()
    {
        // A not-present read at 1 GiB (outside the identity map): error code 0.
        using var m = Guest(a => { a.mov(rax, 0x4000_0000); a.mov(rbx, __qword_ptr[rax]); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 14);
        m.Write(VmcsField.PageFaultErrorCodeMask, 1);
        m.Write(VmcsField.PageFaultErrorCodeMatch, 0);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason);
        Assert.AreEqual(0x80000B0Eu, exit.InterruptionInformation);
        Assert.AreEqual(0x4000_0000UL, exit.ExitQualification, "#PF: the faulting linear address (28.2.1); CR2 unchanged");
        Assert.AreEqual(0u, exit.InterruptionErrorCode);
        Assert.AreEqual(0UL, m.Cpu.Cr2, "a #PF that exits does not write CR2 (27.1)");

        // Mask/match no longer agree with bit 14 set: the #PF goes through the guest IDT (stub HLT exits).
        using var n = Guest(a => { a.mov(rax, 0x4000_0000); a.mov(rbx, __qword_ptr[rax]); });
        n.Write(VmcsField.ExceptionBitmap, 1 << 14);
        n.Write(VmcsField.PageFaultErrorCodeMask, 1);
        n.Write(VmcsField.PageFaultErrorCodeMatch, 1);
        var halt = n.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, halt.BasicReason);
        Assert.AreEqual(VmxMachine.StubAddress + 14 * 4, n.Read(VmcsField.GuestRip));
        Assert.AreEqual(0x4000_0000UL, n.Cpu.Cr2, "delivered through the guest IDT, the #PF wrote CR2");
    }

    [TestMethod]
    public void Int3IsASoftwareExceptionWithLength()
    {
        using var m = Guest(a => { a.int3(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 3);
        var exit = m.LaunchAndRun();
        AssertExit(m, exit, VmExitReason.ExceptionOrNmi, 0, 1, G);
        Assert.AreEqual(0x80000603u, exit.InterruptionInformation, "type 6: software exception");
    }

    [TestMethod]
    public void InvlpgExitingReportsTheLinearAddress()
    {
        using var m = Guest(a => { a.mov(eax, 0x123456); a.invlpg(__byte_ptr[rax + 0x10]); }, ProcessorBasedControls.InvlpgExiting);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Invlpg, 0x123466, 4, G + 5);
    }

    [TestMethod]
    public void RdtscExitingAndTscOffsetting()
    {
        using var m = Guest(a => { a.rdtsc(); });
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.RdtscExiting);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Rdtsc, 0, 2, G);

        using var n = Guest(a => { a.rdtsc(); a.hlt(); }, ProcessorBasedControls.UseTscOffsetting);
        n.Write(VmcsField.TscOffset, 1UL << 40);
        var hostTsc = n.Cpu.TimeStampCounter;
        n.LaunchAndRun();
        var guestTsc = (n.Cpu.Rdx << 32) | (n.Cpu.Rax & 0xFFFFFFFF);
        Assert.IsTrue(guestTsc >= hostTsc + (1UL << 40) && guestTsc < hostTsc + (1UL << 40) + 100_000, "RDTSC returns TSC + offset (26.6.5)");
        Assert.IsTrue(n.Cpu.TimeStampCounter < 1UL << 40, "the offset ends with the exit");
    }

    [TestMethod]
    public void SimpleInstructionExits()
    {
        (Action<Iced.Intel.Assembler> Code, uint Proc, uint Proc2, VmExitReason Reason, uint Length)[] cases =
        [
            (a => a.pause(), ProcessorBasedControls.PauseExiting, 0, VmExitReason.Pause, 2),
            (a => a.wbinvd(), 0, SecondaryProcessorBasedControls.WbinvdExiting, VmExitReason.Wbinvd, 2),
            (a => a.invd(), 0, 0, VmExitReason.Invd, 2),
            (a => a.rdpmc(), ProcessorBasedControls.RdpmcExiting, 0, VmExitReason.Rdpmc, 2),
            (a => a.monitor(), ProcessorBasedControls.MonitorExiting, 0, VmExitReason.Monitor, 3),
            (a => a.mwait(), ProcessorBasedControls.MwaitExiting, 0, VmExitReason.Mwait, 3),
            (a => a.rdtscp(), ProcessorBasedControls.RdtscExiting, SecondaryProcessorBasedControls.EnableRdtscp, VmExitReason.Rdtscp, 3),
            (a => a.vmcall(), 0, 0, VmExitReason.Vmcall, 3),
            (a => a.vmlaunch(), 0, 0, VmExitReason.Vmlaunch, 3),
            (a => a.vmresume(), 0, 0, VmExitReason.Vmresume, 3),
            (a => a.vmxoff(), 0, 0, VmExitReason.Vmxoff, 3),
        ];
        foreach (var c in cases)
        {
            using var m = Guest(c.Code, c.Proc, c.Proc2);
            AssertExit(m, m.LaunchAndRun(), c.Reason, 0, c.Length, G);
        }
    }

    [TestMethod]
    public void SingleStepDebugExceptionExitReportsBsAndLeavesDr6Unmodified()
    {
        using var m = Guest(a => { a.nop(); a.nop(); });
        m.Write(VmcsField.GuestRflags, m.Read(VmcsField.GuestRflags) | Rflags.TF);
        m.Write(VmcsField.ExceptionBitmap, 1 << 1);
        m.Cpu.SetDebugRegister(6, 0xFFFF0FF0 | 0x5);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000301u, exit.InterruptionInformation, "#DB, hardware exception, no error code");
        // 28.2.1: the qualification holds BS (bit 14) for a single step, not B0–B3 left in DR6; 28.1: DR6 is not modified.
        Assert.AreEqual(1UL << 14, exit.ExitQualification);
        Assert.AreEqual(G + 1, m.Read(VmcsField.GuestRip), "a trap: RIP past the stepped NOP");
        Assert.AreEqual(0xFFFF0FF5UL, m.Cpu.GetDebugRegister(6));
    }

    [TestMethod]
    public void RdtscpWithoutEnableRdtscpRaisesUd()
    {
        using var m = Guest(a => { a.rdtscp(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.ExceptionOrNmi, exit.BasicReason, "\"enable RDTSCP\" = 0: RDTSCP causes #UD (26.3)");
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation);
    }

    [TestMethod]
    public void VmxInstructionsInTheGuestReportInstructionInformation()
    {
        using var m = Guest(a => { a.mov(ebx, 0x60000); a.vmptrld(__qword_ptr[rbx + rcx * 4 + 0x20]); });
        var exit = m.LaunchAndRun();
        AssertExit(m, exit, VmExitReason.Vmptrld, 0x20, 5, G + 5);
        // Table 28-13: scaling 2 (x4), address size 2 (64-bit), DS (3), index RCX (1), base RBX (3).
        Assert.AreEqual(2u | (2u << 7) | (3u << 15) | (1u << 18) | (3u << 23), exit.InstructionInformation);

        using var n = Guest(a => { a.vmread(rsi, rdi); });
        var e2 = n.LaunchAndRun();
        AssertExit(n, e2, VmExitReason.Vmread, 0, 3, G);
        // Table 28-14: register 1 (bits 6:3) the destination RSI, bit 10 register form, register 2 (31:28) the encoding in RDI.
        // With a register operand the addressing fields are undefined; only registers 1 and 2 and bit 10 are compared.
        Assert.AreEqual((6u << 3) | (1u << 10) | (7u << 28), e2.InstructionInformation & ((0xFu << 3) | (1u << 10) | (0xFu << 28)));

        using var p = Guest(a => { a.mov(eax, 1); a.invept(rax, __xmmword_ptr[rbx]); });
        var e3 = p.LaunchAndRun();
        AssertExit(p, e3, VmExitReason.Invept, 0, 5, G + 5);
        Assert.AreEqual((2u << 7) | (3u << 15) | (1u << 22) | (3u << 23) | (0u << 28), e3.InstructionInformation);
    }

    [TestMethod]
    public void DescriptorTableExiting()
    {
        using var m = Guest(a => { a.mov(ebx, 0x60000); a.sgdt(__fword_ptr[rbx + 0x10]); }, 0, SecondaryProcessorBasedControls.DescriptorTableExiting);
        var exit = m.LaunchAndRun();
        AssertExit(m, exit, VmExitReason.GdtrIdtrAccess, 0x10, 4, G + 5);
        // Table 28-10: address size 64, operand size 32 (bit 11), DS, no index, base RBX, identity 0 = SGDT.
        Assert.AreEqual((2u << 7) | (1u << 11) | (3u << 15) | (1u << 22) | (3u << 23), exit.InstructionInformation);

        using var n = Guest(a => { a.xor(eax, eax); a.lldt(ax); }, 0, SecondaryProcessorBasedControls.DescriptorTableExiting);
        var e2 = n.LaunchAndRun();
        AssertExit(n, e2, VmExitReason.LdtrTrAccess, 0, 4, G + 2);
        // Table 28-11: register RAX in 6:3, register form (bit 10), identity 2 = LLDT.
        Assert.AreEqual((0u << 3) | (1u << 10) | (2u << 28), e2.InstructionInformation & ((0xFu << 3) | (1u << 10) | (3u << 28)));
    }

    [TestMethod]
    public void TripleFaultExits()
    {
        using var m = Guest(a => { a.ud2(); });
        m.Write(VmcsField.GuestIdtrLimit, 0);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.TripleFault, exit.BasicReason, "#UD, #GP on the IDT limit, #DF, then shutdown: exit 2");
    }

    [TestMethod]
    public void TaskSwitchExitsWithSelectorAndSource()
    {
        // A 32-bit protected-mode guest with paging off (unrestricted guest under an identity EPT) jumps to a TSS.
        using var m = VmxMachine.ProtectedModeGuest();
        m.Memory.Write(VmxMachine.GdtAddress + 0x30, 8, 0x0000890000000067UL | (0x6000UL << 16));
        m.Write(VmcsField.GuestGdtrLimit, 0x37);
        m.Code(a => a.jmp(0x30, 0), G, 32);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.TaskSwitch, exit.BasicReason);
        Assert.AreEqual(0x30UL | (2UL << 30), exit.ExitQualification, "selector in 15:0, source 2 = JMP in 31:30 (table 28-2)");
        Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
        Assert.AreEqual(7u, exit.InstructionLength, "JMP ptr16:32");
    }

    [TestMethod]
    public void ClearingCr4VmxeInVmxOperationRaisesGp()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(rax, cr4); a.and(eax, ~0x2000); a.mov(cr4, rax); a.hlt(); }, VmxMachine.HostCode + 0x100);
        m.Cpu.Rip = VmxMachine.HostCode + 0x100;
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        Assert.AreEqual(VmxMachine.StubAddress + 13 * 4 + 1, m.Cpu.Rip, "MOV to CR4 clearing VMXE in VMX operation: #GP (24.8)");
        Assert.AreNotEqual(0UL, m.Cpu.Cr4 & Cr4.VMXE);
    }

    [TestMethod]
    public void InvpcidNeedsEnableInvpcidAndExitsWithInvlpgExiting()
    {
        using var m = Guest(a => { a.mov(ebx, 0x60000); a.mov(eax, 2); a.invpcid(rax, __xmmword_ptr[rbx + 8]); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        Assert.AreEqual(0x80000306u, m.LaunchAndRun().InterruptionInformation, "\"enable INVPCID\" = 0: #UD (26.3)");

        using var n = Guest(a => { a.mov(ebx, 0x60000); a.mov(eax, 2); a.invpcid(rax, __xmmword_ptr[rbx + 8]); },
            ProcessorBasedControls.InvlpgExiting, SecondaryProcessorBasedControls.EnableInvpcid);
        var exit = n.LaunchAndRun();
        AssertExit(n, exit, VmExitReason.Invpcid, 8, 6, G + 10);
        // Table 28-9: address size 64, DS, no index, base RBX, register 2 (31:28) = RAX holding the type.
        Assert.AreEqual((2u << 7) | (3u << 15) | (1u << 22) | (3u << 23) | (0u << 28), exit.InstructionInformation);
    }

    [TestMethod]
    public void VmfuncIsUndefinedWithoutVmFunctions()
    {
        using var m = Guest(a => { a.xor(eax, eax); a.vmfunc(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation, "VMFUNC with \"enable VM functions\" = 0 (not offered): #UD");
    }

    [TestMethod]
    public void Cr4GuestHostMask()
    {
        using var m = Guest(a => { a.mov(rax, cr4); a.mov(rbx, rax); a.or(ebx, 0x80); a.mov(cr4, rbx); });
        m.Write(VmcsField.Cr4GuestHostMask, Cr4.VMXE | Cr4.PGE);
        m.Write(VmcsField.Cr4ReadShadow, Cr4.PAE);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0UL, m.Cpu.Rax & Cr4.VMXE, "VMXE reads as the shadow's 0");
        AssertExit(m, exit, VmExitReason.ControlRegisterAccess, 4 | (3UL << 8), 3, G + 12);
    }

    [TestMethod]
    public void PaeGuestUnderEptUsesThePdptesOfTheVmcs()
    {
        using var m = new VmxMachine().Ready();
        var ept = new EptTables(m.Memory, VmxMachine.EptPool);
        ept.Map(0, 0, level: 3);
        m.Write(VmcsField.EptPointer, ept.Eptp());
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        m.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt);
        const ulong pdpt = 0x300000, pd = 0x301000;
        for (ulong i = 0; i < 512; i++) m.Memory.Write(pd + i * 8, 8, (i << 21) | 0x83);
        m.Memory.Write(pdpt, 8, 0);
        m.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        m.Write(VmcsField.GuestIa32Efer, 0);
        m.Write(VmcsField.GuestCr3, pdpt);
        m.Write(VmcsField.GuestPdpte0, pd | 1);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        m.Code(a => { a.mov(eax, 0x500000); a.mov(__dword_ptr[eax], 0x77); a.hlt(); }, G, 32);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason, "with EPT the PDPTEs come from the VMCS, not from CR3 (27.3.2.4): the PDPT in memory is empty");
        Assert.AreEqual(0x77UL, m.Memory.Read(0x500000, 4));
        Assert.AreEqual(pd | 1, m.Read(VmcsField.GuestPdpte0), "saved on exit (28.3.4)");

        using var n = new VmxMachine().Ready();
        n.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.ActivateSecondaryControls);
        n.Write(VmcsField.SecondaryProcessorBasedVmExecutionControls, SecondaryProcessorBasedControls.EnableEpt);
        n.Write(VmcsField.EptPointer, new EptTables(n.Memory, VmxMachine.EptPool).Eptp());
        n.SetControl(VmcsField.VmEntryControls, 0, VmEntryControls.Ia32eModeGuest);
        n.Write(VmcsField.GuestIa32Efer, 0);
        n.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        n.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        n.Write(VmcsField.GuestPdpte2, pd | 1 | 0x40);
        Assert.AreEqual(VmxResult.EntryFailure, n.Unit.Vmlaunch());
        Assert.AreEqual(0x80000021u, n.Exits[0].ExitReason, "a reserved bit in a VMCS PDPTE fails the guest-state checks (27.3.1.6)");
        Assert.AreEqual(2UL, n.Exits[0].ExitQualification, "27.8: qualification 2, a problem with the PDPTEs of 27.3.1.6");
    }

    [TestMethod]
    public void StiBlockingLoadedAtEntryDelaysTheInterruptWindow()
    {
        using var m = Guest(a => { a.nop(); a.nop(); a.hlt(); });
        m.Write(VmcsField.GuestRflags, 0x202);
        m.Write(VmcsField.GuestInterruptibilityState, 1);
        m.SetControl(VmcsField.PrimaryProcessorBasedVmExecutionControls, ProcessorBasedControls.InterruptWindowExiting);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.InterruptWindow, exit.BasicReason);
        Assert.AreEqual(G + 1, m.Read(VmcsField.GuestRip), "blocking by STI from the interruptibility state lasts one instruction (27.3.2.5)");
    }

    [TestMethod]
    public void VmxMemoryOperandInstructionsExitWithDisplacementAndInformation()
    {
        (Action<Iced.Intel.Assembler> Code, VmExitReason Reason, uint Reg2)[] cases =
        [
            (a => a.vmclear(__qword_ptr[rbx - 0x10]), VmExitReason.Vmclear, 0),
            (a => a.vmptrst(__qword_ptr[rbx - 0x10]), VmExitReason.Vmptrst, 0),
            (a => a.vmxon(__qword_ptr[rbx - 0x10]), VmExitReason.Vmxon, 0),
            (a => a.vmwrite(rdx, __qword_ptr[rbx - 0x10]), VmExitReason.Vmwrite, 2),
            (a => a.invvpid(rsi, __xmmword_ptr[rbx - 0x10]), VmExitReason.Invvpid, 6),
        ];
        foreach (var c in cases)
        {
            using var m = Guest(c.Code);
            var exit = m.LaunchAndRun();
            Assert.AreEqual((uint)c.Reason, exit.ExitReason);
            Assert.AreEqual(unchecked((ulong)-0x10), exit.ExitQualification, $"{c.Reason}: the displacement, sign-extended (28.2.1)");
            Assert.AreEqual(G, m.Read(VmcsField.GuestRip));
            // Scaling undefined without an index; address size 64, DS, index invalid, base RBX; register 2 only where defined.
            var hasReg2 = c.Reason is VmExitReason.Vmwrite or VmExitReason.Invvpid;
            var mask = (7u << 7) | (7u << 15) | (1u << 22) | (0xFu << 23) | (1u << 27) | (hasReg2 ? 0xFu << 28 : 0);
            var expected = (2u << 7) | (3u << 15) | (1u << 22) | (3u << 23) | (hasReg2 ? c.Reg2 << 28 : 0);
            Assert.AreEqual(expected, exit.InstructionInformation & mask, c.Reason.ToString());
        }
    }

    [TestMethod]
    public void GetsecRaisesUdBeforeItsExit()
    {
        using var m = Guest(a => { a.getsec(); });
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(0x80000306u, exit.InterruptionInformation, "CR4.SMXE cannot be set: the #UD has priority over the exit (26.1.1)");
    }

    [TestMethod]
    public void LmswWithAMemoryOperandReportsItsLinearAddress()
    {
        using var m = Guest(a => { a.mov(ebx, 0x60000); a.lmsw(__word_ptr[rbx + 4]); });
        m.Memory.Write(0x60004, 2, 0x0003);
        m.Write(VmcsField.Cr0GuestHostMask, Cr0.MP);
        m.Write(VmcsField.Cr0ReadShadow, 0);
        var exit = m.LaunchAndRun();
        // Table 28-3: LMSW (3) with a memory operand (bit 6), source data 3 in bits 31:16; the operand's linear address recorded.
        AssertExit(m, exit, VmExitReason.ControlRegisterAccess, (3UL << 4) | 0x40 | (3UL << 16), 4, G + 5);
        Assert.AreEqual(0x60004UL, exit.GuestLinearAddress);
    }

    [TestMethod]
    public void VmcallExitsFromCompatibilityMode()
    {
        // VMCALL "Operation" (SDM vol. 2B): in VMX non-root operation the VM exit comes before the
        // RFLAGS.VM and "IA32_EFER.LMA = 1 and CS.L = 0" #UD checks, unlike the other VMX instructions.
        using var m = Guest(a => { a.nop(); });
        m.Code(a => { a.vmcall(); }, G, 32);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        m.Write(VmcsField.ExceptionBitmap, 1 << 6);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Vmcall, 0, 3, G);
    }

    [TestMethod]
    public void InvpcidExitReportsTheTypeRegisterInRegister2()
    {
        // Table 28-13 (INVEPT, INVPCID, INVVPID): bits 31:28 are Reg2, the register operand holding the type.
        using var m = Guest(a => { a.mov(ebx, 0x60000); a.mov(ecx, 2); a.invpcid(rcx, __xmmword_ptr[rbx]); },
            ProcessorBasedControls.InvlpgExiting, SecondaryProcessorBasedControls.EnableInvpcid);
        var exit = m.LaunchAndRun();
        Assert.AreEqual((uint)VmExitReason.Invpcid, exit.ExitReason);
        Assert.AreEqual(1u, exit.InstructionInformation >> 28, "Reg2 = RCX (1)");
    }

    [TestMethod]
    public void DisplacementQualificationIsSignExtendedFromA32BitAddress()
    {
        // 28.2.1: for an instruction with a memory operand the exit qualification is its displacement,
        // sign-extended to 64 bits; here a disp8 of -8 with 32-bit addressing in compatibility mode.
        using var m = Guest(a => { a.nop(); }, 0, SecondaryProcessorBasedControls.DescriptorTableExiting);
        m.Code(a => { a.mov(eax, 0x60008); a.lgdt(__[eax - 8]); }, G, 32);
        m.Write(VmcsField.GuestCsSelector, VmxMachine.Code32Selector);
        m.Write(VmcsField.GuestCsAccessRights, 0xC09B);
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.GdtrIdtrAccess, exit.BasicReason);
        Assert.AreEqual(0xFFFF_FFFF_FFFF_FFF8UL, exit.ExitQualification);
        Assert.AreEqual(1u, (exit.InstructionInformation >> 7) & 7, "32-bit address size");
    }

    [TestMethod]
    public void RdrandAndRdseedExitWithTheirExitingControls()
    {
        // RDRAND exiting and RDSEED exiting (SDM vol. 3, 26.1.3; table 25-7 bits 11 and 16); exit reasons 57 and 61;
        // the instruction information names the destination register in bits 6:3 and the operand size in 12:11 (28.2.5).
        using var m = Guest(a => { a.rdrand(r9d); a.rdseed(cx); a.hlt(); }, 0,
            SecondaryProcessorBasedControls.RdrandExiting | SecondaryProcessorBasedControls.RdseedExiting);
        m.Cpu.SetGpr(9, 0x77);
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Rdrand, 0, 4, G);
        Assert.AreEqual((9UL << 3) | (1UL << 11), m.Read(VmcsField.VmExitInstructionInformation) & 0x1878);
        Assert.AreEqual(0x77UL, m.Cpu.GetGpr(9), "RDRAND did not execute");
        m.Write(VmcsField.GuestRip, G + 4);
        Assert.AreEqual(VmxResult.Succeed, m.Unit.Vmresume());
        AssertExit(m, m.RunToExit(), VmExitReason.Rdseed, 0, 4, G + 4);
        Assert.AreEqual(1UL << 3, m.Read(VmcsField.VmExitInstructionInformation) & 0x1878, "CX: register 1, 16-bit");
    }

    [TestMethod]
    public void WithoutTheControlsRdrandRunsInTheGuest()
    {
        using var m = Guest(a => { a.xor(eax, eax); a.rdrand(eax); a.cpuid(); });
        AssertExit(m, m.LaunchAndRun(), VmExitReason.Cpuid, 0, 2, G + 5);
        Assert.AreNotEqual(0UL, m.Read(VmcsField.GuestRflags) & 1, "CF = 1: a number was returned");
    }
}
