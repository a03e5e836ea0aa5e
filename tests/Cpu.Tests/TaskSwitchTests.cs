using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>32-bit task switches (SDM vol. 3, chapter 7).</summary>
[TestClass]
public sealed class TaskSwitchTests
{
    private const ulong TssB = 0x5000;
    private const uint TaskBCode = 0x20000;
    private const ushort SelectorB = 0x40;

    /// <summary>Task A runs at <see cref="GuestRunner.CodeAddress"/> with TR = 0x28 (busy); task B's TSS (available) starts at <see cref="TaskBCode"/>.</summary>
    private static GuestRunner TwoTasks(Action<Iced.Intel.Assembler> taskA, Action<Iced.Intel.Assembler> taskB)
    {
        var g = GuestRunner.Protected(taskA);
        g.Code(32, TaskBCode, taskB);
        g.SetGdt(5, Descriptors.Segment((uint)GuestRunner.TssAddress, 0x67, 0x8B, 0));
        g.SetGdt(8, Descriptors.Segment((uint)TssB, 0x67, 0x89, 0));
        for (ulong i = 0; i < 0x68; i++) g.Memory.Write(TssB + i, 1, 0);
        // Table 7-1 (figure 7-2) offsets: EIP 20h, EFLAGS 24h, ESP 38h, ES 48h, CS 4Ch, SS 50h, DS 54h.
        g.Memory.Write(TssB + 0x20, 4, TaskBCode);
        g.Memory.Write(TssB + 0x24, 4, 2);
        g.Memory.Write(TssB + 0x38, 4, 0x60000);
        g.Memory.Write(TssB + 0x48, 2, GuestRunner.KernelData);
        g.Memory.Write(TssB + 0x4C, 2, GuestRunner.KernelCode);
        g.Memory.Write(TssB + 0x50, 2, GuestRunner.KernelData);
        g.Memory.Write(TssB + 0x54, 2, GuestRunner.KernelData);
        g.Memory.Write(TssB + 0x66, 2, 0x68);
        return g;
    }

    private static int TypeOf(GuestRunner g, int index) => (int)(g.GdtEntry(index) >> 40) & 0xF;

    [TestMethod]
    public void JmpToTssSwitchesTaskAndMovesTheBusyBit_7_3()
    {
        using var g = TwoTasks(a =>
        {
            a.mov(esi, 0x1234);
            a.jmp(SelectorB, 0);
        }, b => b.hlt());
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(SelectorB, g.Cpu.Tr.Selector);
        Assert.AreEqual(0x60000UL, g.Cpu.Rsp);
        Assert.AreEqual(Descriptors.BusyTss32, TypeOf(g, 8));
        Assert.AreEqual(Descriptors.AvailableTss32, TypeOf(g, 5), "JMP clears the old task's busy flag");
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.NT);
        Assert.AreEqual(GuestRunner.CodeAddress + 5 + 7, g.Memory.Read(GuestRunner.TssAddress + 0x20, 4), "old EIP saved");
        Assert.AreEqual(0x1234UL, g.Memory.Read(GuestRunner.TssAddress + 0x40, 4), "old ESI saved");
        Assert.AreNotEqual(0UL, g.Cpu.Cr0 & Cr0.TS, "a task switch sets CR0.TS");
    }

    [TestMethod]
    public void CallToTssNestsAndIretReturns_7_4()
    {
        using var g = TwoTasks(a =>
        {
            a.call(SelectorB, 0);
            a.mov(al, 3);
            a.@out(0xF4, al);
        }, b =>
        {
            b.hlt();
            b.iretd();
        });
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreNotEqual(0UL, g.Cpu.Flags & Rflags.NT, "CALL sets NT in the new task");
        Assert.AreEqual((ulong)GuestRunner.TssSelector, g.Memory.Read(TssB, 2), "back link to the caller's TSS");
        Assert.AreEqual(Descriptors.BusyTss32, TypeOf(g, 5), "the caller stays busy");
        Assert.AreEqual(Descriptors.BusyTss32, TypeOf(g, 8));
        g.Cpu.Activity = ActivityState.Active;
        g.AssertExit(3);
        Assert.AreEqual(GuestRunner.TssSelector, g.Cpu.Tr.Selector);
        Assert.AreEqual(Descriptors.AvailableTss32, TypeOf(g, 8), "IRET frees the nested task");
        Assert.AreEqual(0UL, g.Cpu.Flags & Rflags.NT);
    }

    [TestMethod]
    public void JmpToBusyTssRaisesGp_7_3()
    {
        using var g = TwoTasks(a => a.jmp(SelectorB, 0), b => b.hlt());
        g.SetGdt(8, Descriptors.Segment((uint)TssB, 0x67, 0x8B, 0));
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual((ulong)SelectorB, g.Stack(0));
    }
}
