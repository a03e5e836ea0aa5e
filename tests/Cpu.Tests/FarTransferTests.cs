using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Far JMP/CALL/RET/IRET, call gates and the fast system calls (SDM vol. 2 instruction pages; vol. 3, 5.8 and 6.14).</summary>
[TestClass]
public sealed class FarTransferTests
{
    private const uint Target = 0x20000;

    [TestMethod]
    public void FarJmpAndFarCallRetfAtTheSameLevel_Vol2JmpCallRet()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.call(0x40, Target);
            a.@out(0xF4, al);
        });
        g.Code(32, Target, a =>
        {
            a.mov(eax, __dword_ptr[esp + 4]);
            a.retf();
        });
        g.SetGdt(8, Descriptors.Code32);
        g.AssertExit(0x08);
        Assert.AreEqual(0x08, g.Cpu.GetSegment(SegmentIndex.CS).Selector);
        Assert.AreEqual(0x80000UL, g.Cpu.Rsp);

        using var j = GuestRunner.Protected(a => a.jmp(0x40, Target));
        j.Code(32, Target, a => a.hlt());
        j.SetGdt(8, Descriptors.Code32);
        Assert.AreEqual(StopReason.Halted, j.Run());
        Assert.AreEqual(0x40, j.Cpu.GetSegment(SegmentIndex.CS).Selector);
        Assert.AreEqual(Target + 1UL, j.Cpu.Rip);
    }

    [TestMethod]
    public void CallGateToInnerLevelSwitchesStacksAndCopiesParameters_5_8_5()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.push(0x1111);
            a.push(0x2222);
            a.call(0x53, 0);
        });
        g.Code(32, Target, a => a.hlt());
        g.SetGdt(10, Descriptors.Gate(Descriptors.CallGate32, GuestRunner.KernelCode, Target, 3, parameterCount: 2));
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(0, g.Cpu.Cpl);
        Assert.AreEqual(GuestRunner.KernelData, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
        // Figure 5-13: SS, ESP, the parameters, CS, EIP on the inner stack.
        Assert.AreEqual(0x70000UL - 24, g.Cpu.Rsp);
        Assert.AreEqual(GuestRunner.CodeAddress + 5 + 5 + 7, g.Stack(0));
        Assert.AreEqual((ulong)GuestRunner.UserCode, g.Stack(1));
        Assert.AreEqual(0x2222UL, g.Stack(2));
        Assert.AreEqual(0x1111UL, g.Stack(3));
        Assert.AreEqual(0x7F000UL - 8, g.Stack(4));
        Assert.AreEqual((ulong)GuestRunner.UserData, g.Stack(5));
    }

    [TestMethod]
    public void CallGateFrameBeyondTheNewStackLimitFaultsInsteadOfWriting_Vol2Call()
    {
        // CALL through a call gate to an inner level: #SS(new SS) when the frame does not fit the new
        // stack; every later delivery hits the same stack, so #SS, #DF, shutdown (table 6-5).
        using var g = GuestRunner.Protected(a =>
        {
            a.push(0x1111);
            a.call(0x53, 0);
        });
        g.Code(32, Target, a => a.hlt());
        g.SetGdt(10, Descriptors.Gate(Descriptors.CallGate32, GuestRunner.KernelCode, Target, 3, parameterCount: 1));
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFF, 0x93, 0x4));
        g.AddUserSegmentsAndTss32(esp0: 0x20008);
        g.Memory.Write(GuestRunner.TssAddress + 8, 2, 0x40);
        g.Memory.Write(0x1FFF8, 8, 0x1122334455667788UL);
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(StopReason.Shutdown, g.Run());
        Assert.AreEqual(0x1122334455667788UL, g.Memory.Read(0x1FFF8, 8), "nothing written beyond the limit");
    }

    [TestMethod]
    public void RetfToOuterLevelNullsMorePrivilegedDataSegments_Vol2Ret()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.push(GuestRunner.UserData);
            a.push(0x7F000);
            a.push(GuestRunner.UserCode);
            a.push((int)Target);
            a.mov(ax, GuestRunner.UserData);
            a.mov(es, ax);
            a.retf();
        });
        g.Code(32, Target, a => a.nop());
        for (var i = 0; i < 7; i++) g.Cpu.Step();
        Assert.AreEqual(3, g.Cpu.Cpl);
        Assert.AreEqual(Target, g.Cpu.Rip);
        Assert.AreEqual(0x7F000UL, g.Cpu.Rsp);
        Assert.AreEqual(0, g.Cpu.GetSegment(SegmentIndex.DS).Selector & 0xFFFC, "DS had DPL 0 < CPL 3");
        Assert.AreEqual(GuestRunner.UserData, g.Cpu.GetSegment(SegmentIndex.ES).Selector);
        Assert.AreEqual(GuestRunner.UserData, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
    }

    [TestMethod]
    public void IretToOuterLevelRestoresEflagsAndStack_Vol2Iret()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.push(GuestRunner.UserData);
            a.push(0x7F000);
            a.push((int)(Rflags.IF | Rflags.Reserved1 | Rflags.CF | (3UL << 12)));
            a.push(GuestRunner.UserCode);
            a.push((int)Target);
            a.iretd();
        });
        g.Code(32, Target, a => a.nop());
        for (var i = 0; i < 6; i++) g.Cpu.Step();
        Assert.AreEqual(3, g.Cpu.Cpl);
        Assert.AreEqual(Target, g.Cpu.Rip);
        Assert.AreEqual(0x7F000UL, g.Cpu.Rsp);
        Assert.AreEqual(Rflags.IF | Rflags.CF | (3UL << 12), g.Cpu.Flags & (Rflags.IF | Rflags.CF | Rflags.IOPL));
    }

    [TestMethod]
    public void IretqPopsSsRspAtTheSameLevel_6_14_3()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(eax, 0x60000);
            a.push(GuestRunner.KernelData);
            a.push(rax);
            a.push((int)(Rflags.Reserved1 | Rflags.ZF));
            a.push(GuestRunner.KernelCode);
            a.push((int)Target);
            a.iretq();
        });
        g.Code(64, Target, a => a.hlt());
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(Target + 1UL, g.Cpu.Rip);
        Assert.AreEqual(0x60000UL, g.Cpu.Rsp);
        Assert.AreNotEqual(0UL, g.Cpu.Flags & Rflags.ZF);
    }

    [TestMethod]
    public void SyscallAndSysretUseStarLstarFmask_Vol2Syscall()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(ebx, 0x77);
            a.syscall();
            a.@out(0xF4, al);
        });
        g.Code(64, Target, a =>
        {
            a.mov(eax, ebx);
            a.sysretq();
        });
        Assert.IsTrue(g.Cpu.TryWriteMsr(0xC0000080, Efer.LME | Efer.SCE));
        Assert.IsTrue(g.Cpu.TryWriteMsr(0xC0000081, (0x18UL << 48) | (0x08UL << 32)));
        Assert.IsTrue(g.Cpu.TryWriteMsr(0xC0000082, Target));
        Assert.IsTrue(g.Cpu.TryWriteMsr(0xC0000084, Rflags.IF | Rflags.DF));
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
        g.Cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0x23, Limit = 0xFFFFFFFF, Attributes = 0xC0F3 });
        g.Cpu.Flags |= Rflags.IF | Rflags.DF;
        g.Cpu.Step();
        g.Cpu.Step();
        Assert.AreEqual(Target, g.Cpu.Rip);
        Assert.AreEqual(0x08, g.Cpu.GetSegment(SegmentIndex.CS).Selector);
        Assert.AreEqual(0x10, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
        Assert.AreEqual(GuestRunner.CodeAddress + 7, g.Cpu.Rcx, "RCX = return RIP");
        Assert.AreNotEqual(0UL, g.Cpu.GetGpr(11) & Rflags.IF, "R11 = old RFLAGS");
        Assert.AreEqual(0UL, g.Cpu.Flags & (Rflags.IF | Rflags.DF), "RFLAGS masked by FMASK");
        g.AssertExit(0x77);
        Assert.AreEqual(0x2B, g.Cpu.GetSegment(SegmentIndex.CS).Selector, "STAR[63:48] + 16, RPL 3");
        Assert.AreEqual(0x23, g.Cpu.GetSegment(SegmentIndex.SS).Selector, "STAR[63:48] + 8, RPL 3");
        Assert.AreNotEqual(0UL, g.Cpu.Flags & Rflags.IF, "RFLAGS from R11");
    }

    [TestMethod]
    public void SysenterAndSysexitUseTheSysenterMsrs_Vol2Sysenter()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ebx, 0x55);
            a.sysenter();
        });
        g.Code(32, Target, a =>
        {
            a.mov(ecx, 0x7E000);
            a.mov(edx, (uint)GuestRunner.CodeAddress + 0x100);
            a.sysexit();
        });
        g.Code(32, GuestRunner.CodeAddress + 0x100, a =>
        {
            a.mov(eax, ebx);
            a.@out(0xF4, al);
        });
        Assert.IsTrue(g.Cpu.TryWriteMsr(0x174, GuestRunner.KernelCode));
        Assert.IsTrue(g.Cpu.TryWriteMsr(0x175, 0x6F000));
        Assert.IsTrue(g.Cpu.TryWriteMsr(0x176, Target));
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        g.Cpu.Flags |= Rflags.IF | (3UL << 12);
        g.Cpu.Step();
        g.Cpu.Step();
        Assert.AreEqual(0, g.Cpu.Cpl);
        Assert.AreEqual(Target, g.Cpu.Rip);
        Assert.AreEqual(0x6F000UL, g.Cpu.Rsp);
        Assert.AreEqual(GuestRunner.KernelData, g.Cpu.GetSegment(SegmentIndex.SS).Selector, "IA32_SYSENTER_CS + 8");
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.IF, "SYSENTER clears IF");
        g.AssertExit(0x55);
        Assert.AreEqual(GuestRunner.UserCode, g.Cpu.GetSegment(SegmentIndex.CS).Selector, "IA32_SYSENTER_CS + 16, RPL 3");
        Assert.AreEqual(GuestRunner.UserData, g.Cpu.GetSegment(SegmentIndex.SS).Selector, "IA32_SYSENTER_CS + 24, RPL 3");
        Assert.AreEqual(0x7E000UL, g.Cpu.Rsp);
    }

    [TestMethod]
    [DataRow(16)]
    [DataRow(32)]
    [DataRow(64)]
    public void NearRetImmEnterLeaveUseTheOperandSizeOfTheCode_Vol2RetEnterLeave(int bits)
    {
        using var g = new GuestRunner();
        var size = bits / 8;
        g.Code(bits, 0x7000, a =>
        {
            var f = a.CreateLabel();
            a.mov(ebp, 0x1234);
            a.call(f);
            a.mov(al, 0);
            a.@out(0xF4, al);
            a.Label(ref f);
            a.enter(8, 0);
            a.leave();
            a.ret((short)(2 * size));
        });
        if (bits == 16) g.StartReal(0x7000);
        else if (bits == 32) g.StartProtected(0x7000);
        else g.StartLong(0x7000);
        g.Cpu.Rsp = 0x8000;
        g.AssertExit(0);
        Assert.AreEqual(0x8000UL + 2 * (ulong)size, g.Cpu.Rsp, "RET imm16 releases imm16 bytes after popping a return address of the operand size");
        Assert.AreEqual(0x1234UL, g.Cpu.Rbp & 0xFFFF);
    }
}
