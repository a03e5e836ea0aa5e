using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Virtual-8086 mode (SDM vol. 3, chapter 20).</summary>
[TestClass]
public sealed class Virtual8086Tests
{
    /// <summary>CPL-0 code IRETs into v86 code at 2000:0100 with SS:SP 3000:0FF0 and DS = 1234h (20.2.1, figure 6-4 frame with segments).</summary>
    private static GuestRunner EnterV86(int iopl, Action<Iced.Intel.Assembler> v86)
    {
        var g = GuestRunner.Protected(a =>
        {
            a.push(0x5000);
            a.push(0x4000);
            a.push(0x1234);
            a.push(0x6000);
            a.push(0x3000);
            a.push(0x0FF0);
            a.push((int)(Rflags.VM | Rflags.Reserved1 | ((ulong)iopl << 12)));
            a.push(0x2000);
            a.push(0x0100);
            a.iretd();
        });
        g.Load(0x20100, GuestRunner.Assemble(16, 0x100, v86));
        return g;
    }

    [TestMethod]
    public void IretWithVmEntersV86AndSegmentsAreSelectorTimes16_20_2()
    {
        using var g = EnterV86(3, a =>
        {
            a.mov(al, __byte_ptr[0x10]);
            a.mov(bx, 0x2345);
            a.mov(es, bx);
            a.mov(ah, __byte_ptr.es[0x10]);
            a.@out(0xF4, ax);
        });
        // 20.2.8.1: v86 I/O always consults the TSS bitmap, whatever IOPL; this one allows every port up to 0FFh.
        g.AddUserSegmentsAndTss32(tssLimit: 0x68 + 0x20);
        g.Memory.Write(GuestRunner.TssAddress + 0x88, 1, 0xFF);
        g.Memory.Write(0x12350, 1, 0x11);
        g.Memory.Write(0x23460, 1, 0x22);
        g.AssertExit(0x2211);
        Assert.IsTrue(g.Cpu.InVirtual8086Mode);
        Assert.AreEqual(3, g.Cpu.Cpl);
        Assert.AreEqual(0x30000UL, g.Cpu.GetSegment(SegmentIndex.SS).Base);
    }

    [TestMethod]
    public void IntWithIoplBelow3RaisesGpToTheProtectedModeHandler_20_3_1()
    {
        using var g = EnterV86(0, a => a.@int(0x40));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.IsFalse(g.Cpu.InVirtual8086Mode);
        Assert.AreEqual(0UL, g.Stack(0), "error code");
        Assert.AreEqual(0x100UL, g.Stack(1), "IP of the INT");
        Assert.AreEqual(0x2000UL, g.Stack(2));
    }

    [TestMethod]
    public void InterruptFromV86PushesGsFsDsEsAndNullsThem_20_3_1_1()
    {
        using var g = EnterV86(3, a => a.@int(0x40));
        Assert.AreEqual(0x40, g.RunToVector());
        // Figure 20-4: EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS on the CPL-0 stack.
        Assert.AreEqual(0x70000UL - 36, g.Cpu.Rsp);
        Assert.AreEqual(0x102UL, g.Stack(0));
        Assert.AreEqual(0x2000UL, g.Stack(1));
        Assert.AreNotEqual(0UL, g.Stack(2) & Rflags.VM);
        Assert.AreEqual(0x0FF0UL, g.Stack(3));
        Assert.AreEqual(0x3000UL, g.Stack(4));
        Assert.AreEqual(0x6000UL, g.Stack(5), "ES");
        Assert.AreEqual(0x1234UL, g.Stack(6), "DS");
        Assert.AreEqual(0x4000UL, g.Stack(7), "FS");
        Assert.AreEqual(0x5000UL, g.Stack(8), "GS");
        Assert.AreEqual(0, g.Cpu.GetSegment(SegmentIndex.DS).Selector);
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.VM);
    }
}
