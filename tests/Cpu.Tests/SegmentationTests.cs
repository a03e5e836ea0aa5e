using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Segmentation (SDM vol. 3, chapters 3 and 5; real mode, chapter 20).</summary>
[TestClass]
public sealed class SegmentationTests
{
    [TestMethod]
    public void AccessBeyondDataSegmentLimitRaisesGp0_5_3()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(ds, ax);
            a.mov(ebx, __dword_ptr[0xFFC]);
            a.mov(ebx, __dword_ptr[0xFFE]);
        });
        g.SetGdt(8, Descriptors.Segment(0x100000, 0xFFF, 0x93, 0x4));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0));
        Assert.AreEqual(GuestRunner.CodeAddress + 13, g.Stack(1), "the first access was within the limit");
    }

    [TestMethod]
    public void StackBeyondLimitRaisesSs0_5_3()
    {
        using var g = GuestRunner.Protected(a => a.push(eax));
        g.SetGdt(8, Descriptors.Segment(0x60000, 0xFFF, 0xF3, 0x4));
        g.EnterUser32(GuestRunner.CodeAddress, 0x1002);
        g.Cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0x43, Base = 0x60000, Limit = 0xFFF, Attributes = 0x40F3 });
        Assert.AreEqual(ExceptionVector.SS, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0));
        Assert.AreEqual(0x43UL, g.Stack(5), "the frame is on the CPL-0 stack");
    }

    [TestMethod]
    public void ExpandDownSegmentAllowsOffsetsAboveTheLimit_3_4_5_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(es, ax);
            a.mov(__dword_ptr.es[0x2000], 0x5A);
            a.mov(__dword_ptr.es[0x800], 0x5B);
        });
        g.SetGdt(8, Descriptors.Segment(0x100000, 0xFFF, 0x97, 0x4));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x5AUL, g.Memory.Read(0x102000, 4));
    }

    [TestMethod]
    public void NullSelectorLoadsIntoDsButAccessFaults_3_4_2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.xor(eax, eax);
            a.mov(ds, ax);
            a.mov(ebx, __dword_ptr[0x100]);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0));
        Assert.AreEqual(GuestRunner.CodeAddress + 5, g.Stack(1), "the load succeeded, the access faulted");
    }

    [TestMethod]
    public void NullSelectorIntoSsRaisesGp0_MovSdmVol2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.xor(eax, eax);
            a.mov(ss, ax);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0));
        Assert.AreEqual(GuestRunner.CodeAddress + 2, g.Stack(1));
    }

    [TestMethod]
    public void ExecuteOnlyCodeIntoDsRaisesGpWithSelector_MovSdmVol2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(ds, ax);
        });
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFFF, 0x98, 0xC));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x40UL, g.Stack(0));
    }

    [TestMethod]
    public void ReadableCodeIntoDsWorksAndReadsButWriteFaults_5_5()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(ds, ax);
            a.mov(ebx, __dword_ptr[GuestRunner.CodeAddress]);
            a.mov(__dword_ptr[0x9000], ebx);
        });
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFFF, 0x9A, 0xC));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(0x0040B866UL, g.Cpu.Rbx);
    }

    [TestMethod]
    public void LoadingADescriptorSetsItsAccessedBit_3_4_5_1()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(ax, 0x40);
            a.mov(fs, ax);
            a.mov(al, 0);
            a.@out(0xF4, al);
        });
        g.SetGdt(8, Descriptors.Segment(0, 0xFFFFF, 0x92, 0xC));
        g.AssertExit(0);
        Assert.AreNotEqual(0UL, g.GdtEntry(8) & (1UL << 40));
        Assert.AreEqual(0x93u, g.Cpu.GetSegment(SegmentIndex.FS).Attributes & 0xFF);
    }

    [TestMethod]
    public void RealModeAddressIsSegmentTimes16PlusOffsetAndOffsetsWrapAt64K_20_1_1()
    {
        using var g = GuestRunner.Real(a =>
        {
            a.mov(ax, 0x1234);
            a.mov(ds, ax);
            a.mov(al, __byte_ptr[0x10]);
            a.mov(bx, 0xFFFF);
            a.mov(ah, __byte_ptr[bx + 2]);
            a.@out(0xF4, ax);
        });
        g.Memory.Write(0x12350, 1, 0x11);
        g.Memory.Write(0x12341, 1, 0x22);
        g.AssertExit(0x2211);
    }

    [TestMethod]
    public void UnrealModeKeepsTheCachedLimitAfterLeavingProtectedMode_9_9_2()
    {
        using var g = new GuestRunner();
        // 9.9.2: code runs in a 16-bit, 64-KiB segment before PE is cleared, then a far JMP loads real-mode CS.
        g.Load(GuestRunner.CodeAddress, GuestRunner.Assemble(16, 0, a =>
        {
            a.mov(eax, cr0);
            a.and(al, 0xFE);
            a.mov(cr0, eax);
            a.jmp(0x1000, 0x10);
        }));
        g.Code(16, GuestRunner.CodeAddress + 0x10, a =>
        {
            a.xor(ax, ax);
            a.mov(ds, ax);
            a.mov(esi, 0x200000);
            a.mov(eax, __dword_ptr[esi]);
            a.@out(0xF4, eax);
        });
        g.Memory.Write(0x200000, 4, 0x600D);
        g.StartProtected(GuestRunner.CodeAddress);
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x18, Base = GuestRunner.CodeAddress, Limit = 0xFFFF, Attributes = 0x9B });
        g.Cpu.Rip = 0;
        g.AssertExit(0x600D);
        Assert.IsFalse(g.Cpu.InProtectedMode);
        Assert.AreEqual(0xFFFFFFFFu, g.Cpu.GetSegment(SegmentIndex.DS).Limit);
    }

    [TestMethod]
    public void RealModeAccessBeyond64KRaisesGp_20_1_1()
    {
        using var g = GuestRunner.Real(a =>
        {
            a.mov(esi, 0x10000);
            a.mov(al, __byte_ptr[esi]);
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
    }

    [TestMethod]
    public void AnInstructionThatEndsBeyondTheCsLimitRaisesGpAfterThoseBeforeItRan_5_3()
    {
        // SDM vol. 3, 5.3: an instruction fetch beyond the CS limit raises #GP(0); the instructions before it complete.
        using var g = GuestRunner.Protected(a =>
        {
            a.inc(ecx);
            a.inc(ecx);
            a.inc(ecx);
            a.mov(eax, 0x12345678);
            a.hlt();
        });
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = GuestRunner.KernelCode, Base = 0, Limit = (uint)GuestRunner.CodeAddress + 5, Attributes = 0x409B });
        Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual(3UL, g.Cpu.Rcx);
        Assert.AreEqual(0UL, g.Cpu.Rax, "the MOV did not run");
        Assert.AreEqual(GuestRunner.CodeAddress + 3, g.Stack(1), "the fault's EIP is the MOV");
    }
}
