using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Exception and interrupt delivery through the IVT and IDT (SDM vol. 3, chapter 6; vol. 2, INT n).</summary>
[TestClass]
public sealed class ExceptionDeliveryTests
{
    [TestMethod]
    public void RealModeIntPushesFlagsCsIpAndClearsIfTf_6_1_20_1_4()
    {
        using var g = GuestRunner.Real(a =>
        {
            a.sti();
            a.@int(0x21);
        });
        Assert.AreEqual(0x21, g.RunToVector());
        Assert.AreEqual(0x8000UL - 6, g.Cpu.Rsp);
        Assert.AreEqual(0x7C03UL, g.Stack(0, 2), "IP of the next instruction");
        Assert.AreEqual(0UL, g.Stack(1, 2), "CS");
        Assert.AreNotEqual(0UL, g.Stack(2, 2) & Rflags.IF, "saved FLAGS has IF");
        Assert.AreEqual(0UL, g.Cpu.Flags & (Rflags.IF | Rflags.TF));
        Assert.AreEqual((ushort)(GuestRunner.StubAddress >> 4), g.Cpu.GetSegment(SegmentIndex.CS).Selector);
    }

    [TestMethod]
    [DataRow(Descriptors.InterruptGate32, false)]
    [DataRow(Descriptors.TrapGate32, true)]
    public void InterruptGateClearsIfTrapGateKeepsIt_6_12_1_3(int type, bool ifAfter)
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.sti();
            a.@int(0x40);
        });
        g.SetIdtGate32(0x40, Descriptors.Gate(type, GuestRunner.KernelCode, (uint)GuestRunner.StubAddress + 0x40 * 4, 0));
        Assert.AreEqual(0x40, g.RunToVector());
        Assert.AreEqual(ifAfter, (g.Cpu.Flags & Rflags.IF) != 0);
        // Same privilege: EFLAGS, CS, EIP on the current stack (figure 6-4).
        Assert.AreEqual(0x80000UL - 12, g.Cpu.Rsp);
        Assert.AreEqual(GuestRunner.CodeAddress + 3, g.Stack(0));
        Assert.AreEqual((ulong)GuestRunner.KernelCode, g.Stack(1));
        Assert.AreNotEqual(0UL, g.Stack(2) & Rflags.IF);
    }

    [TestMethod]
    public void PrivilegeChangeSwitchesToTssStackAndPushesSsEspEflagsCsEipError_6_12_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.nop();
            a.cli();
        });
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0, g.Cpu.Cpl);
        Assert.AreEqual(GuestRunner.KernelData, g.Cpu.GetSegment(SegmentIndex.SS).Selector, "SS0 from the TSS");
        Assert.AreEqual(0x70000UL - 24, g.Cpu.Rsp, "ESP0 from the TSS minus six dwords");
        Assert.AreEqual(0UL, g.Stack(0), "error code");
        Assert.AreEqual(GuestRunner.CodeAddress + 1, g.Stack(1), "EIP of the faulting CLI");
        Assert.AreEqual((ulong)GuestRunner.UserCode, g.Stack(2));
        Assert.AreEqual(0x7F000UL, g.Stack(4));
        Assert.AreEqual((ulong)GuestRunner.UserData, g.Stack(5));
    }

    [TestMethod]
    public void LongModeFrameIsAlignedAndAlwaysHasSsRsp_6_14_2()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(esp, 0x80008);
            a.@int(0x40);
        });
        Assert.AreEqual(0x40, g.RunToVector());
        Assert.AreEqual(0x80000UL - 40, g.Cpu.Rsp, "RSP aligned to 16 bytes before the push");
        Assert.AreEqual(GuestRunner.CodeAddress + 7, g.Stack(0, 8));
        Assert.AreEqual((ulong)GuestRunner.KernelCode, g.Stack(1, 8));
        Assert.AreEqual(0x80008UL, g.Stack(3, 8), "old RSP");
        Assert.AreEqual((ulong)GuestRunner.KernelData, g.Stack(4, 8), "old SS");
    }

    [TestMethod]
    public void LongModeIstSelectsTheStackFromTheTss_6_14_5()
    {
        using var g = GuestRunner.Long(a => a.@int(0x41));
        g.SetIdtGate64(0x41, Descriptors.InterruptGate32, GuestRunner.StubAddress + 0x41 * 4, dpl: 0, ist: 2);
        g.Memory.Write(GuestRunner.TssAddress + 0x24 + 8, 8, 0x60008);
        Assert.AreEqual(0x41, g.RunToVector());
        Assert.AreEqual(0x60000UL - 40, g.Cpu.Rsp);
        Assert.AreEqual(0x80000UL, g.Stack(3, 8));
    }

    [TestMethod]
    public void LongModeUserToKernelLoadsRsp0AndNullSs_6_14_4()
    {
        using var g = GuestRunner.Long(a => a.@int(0x40));
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
        g.Cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0x23, Limit = 0xFFFFFFFF, Attributes = 0xC0F3 });
        g.Cpu.Rsp = 0x7F000;
        Assert.AreEqual(0x40, g.RunToVector());
        Assert.AreEqual(0x70000UL - 40, g.Cpu.Rsp);
        Assert.AreEqual(0, g.Cpu.GetSegment(SegmentIndex.SS).Selector & 0xFFFC, "SS is null in 64-bit mode after a privilege change");
        Assert.AreEqual(0x23UL, g.Stack(4, 8));
        Assert.AreEqual(0x2BUL, g.Stack(1, 8));
    }

    [TestMethod]
    public void ErrorCodesOfGpAndNpNameTheSelector_6_13()
    {
        using (var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x1F8);
            a.mov(ds, ax);
        }))
        {
            Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "selector beyond the GDT limit");
            Assert.AreEqual(0x1F8UL, g.Stack(0));
        }
        using (var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x43);
            a.mov(es, ax);
        }))
        {
            g.SetGdt(8, Descriptors.UserData32 & ~(1UL << 47));
            Assert.AreEqual(ExceptionVector.NP, g.RunToVector());
            Assert.AreEqual(0x40UL, g.Stack(0), "RPL is cleared in the error code");
        }
    }

    [TestMethod]
    public void IntBeyondIdtLimitRaisesGpWithIdtErrorCode_6_13()
    {
        using var g = GuestRunner.Protected(a => a.@int(0x40));
        g.Cpu.Idtr = new DescriptorTableRegister { Base = GuestRunner.IdtAddress, Limit = 0x40 * 8 - 1 };
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x40UL * 8 + 2, g.Stack(0));
    }

    [TestMethod]
    public void HardwareExceptionThroughNotPresentGateSetsExt_6_13()
    {
        // EXT is set when the fault occurs while delivering an event other than INT n, INT3 or INTO.
        using var g = GuestRunner.Protected(a => a.ud2());
        g.SetIdtGate32(ExceptionVector.UD, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, 0, 0, present: false));
        Assert.AreEqual(ExceptionVector.NP, g.RunToVector());
        Assert.AreEqual((ulong)ExceptionVector.UD * 8 + 2 + 1, g.Stack(0));
    }

    [TestMethod]
    public void IntWithGateDplBelowCplRaisesGp_6_12_1_1()
    {
        using var g = GuestRunner.Protected(a => a.@int(0x40));
        g.SetIdtGate32(0x40, Descriptors.Gate(Descriptors.InterruptGate32, GuestRunner.KernelCode, (uint)GuestRunner.StubAddress, 0));
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x40UL * 8 + 2, g.Stack(0));
    }

    [TestMethod]
    public void GpWhileDeliveringNpBecomesDoubleFault_6_15_Table6_5()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(ds, ax);
        });
        g.SetGdt(8, Descriptors.Data32 & ~(1UL << 47));
        g.SetIdtGate32(ExceptionVector.NP, Descriptors.Gate(Descriptors.InterruptGate32, 0x1F8, 0, 0));
        Assert.AreEqual(ExceptionVector.DF, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0), "#DF pushes an error code of 0");
        Assert.AreEqual(GuestRunner.CodeAddress + 4, g.Stack(1), "saved EIP is the MOV DS that faulted");
    }

    [TestMethod]
    public void FaultWhileDeliveringDoubleFaultShutsDown_6_15()
    {
        using var g = GuestRunner.Protected(a => a.ud2());
        g.Cpu.Idtr = new DescriptorTableRegister { Base = GuestRunner.IdtAddress, Limit = 0 };
        Assert.AreEqual(StopReason.Shutdown, g.Run());
        Assert.AreEqual(ActivityState.Shutdown, g.Cpu.Activity);
    }

    [TestMethod]
    public void PageFaultWhileDeliveringPageFaultBecomesDoubleFault_Table6_5()
    {
        using var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.Pae);
        t.IdentityMap(0, 0x100000, PageTableBuilder.RW);
        g.Code(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(esp, 0x400000);
            a.mov(eax, __dword_ptr[esp]);
        });
        g.StartPaged(GuestRunner.CodeAddress, t);
        g.InstallIdt(32);
        // The #PF handler's frame goes to the unmapped stack; #DF runs through a task gate with its own stack.
        g.AddUserSegmentsAndTss32();
        g.SetGdt(8, Descriptors.Segment(0x5000, 0x67, 0x89, 0));
        g.Memory.Write(0x5000 + 0x20, 4, GuestRunner.StubAddress + 8 * 4);
        g.Memory.Write(0x5000 + 0x24, 4, 2);
        g.Memory.Write(0x5000 + 0x38, 4, 0x60000);
        g.Memory.Write(0x5000 + 0x1C, 4, t.Root);
        g.Memory.Write(0x5000 + 0x48, 2, 0x10);
        g.Memory.Write(0x5000 + 0x4C, 2, 0x08);
        g.Memory.Write(0x5000 + 0x50, 2, 0x10);
        g.Memory.Write(0x5000 + 0x54, 2, 0x10);
        g.SetIdtGate32(ExceptionVector.DF, Descriptors.Gate(Descriptors.TaskGate, 0x40, 0, 0));
        Assert.AreEqual(ExceptionVector.DF, g.RunToVector());
        Assert.AreEqual(0x40, g.Cpu.Tr.Selector);
        Assert.AreEqual(0UL, g.Stack(0), "#DF error code on the new task's stack");
    }

    [TestMethod]
    public void LongModeGateWithATypeInItsUpperHalfRaisesGp_Figure6_8()
    {
        using var g = GuestRunner.Long(a => a.@int(0x40));
        g.SetIdtGate64(0x40, 0xE, 0x30000, dpl: 0);
        // Bits 12:8 of the upper half's second dword are the (must-be-zero) type field.
        g.Memory.Write(GuestRunner.IdtAddress + 0x40 * 16 + 8 + 5, 1, 0x0E);
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x40UL * 8 + 2, g.Stack(0, 8), "error code names the IDT entry");
    }
}
