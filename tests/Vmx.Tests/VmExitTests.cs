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
}
