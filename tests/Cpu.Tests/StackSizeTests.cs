using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Microkernels.Kernel.PageTableBuilder;

namespace Sim.Cpu.Tests;

/// <summary>
/// The stack's size (SS.B outside 64-bit mode) against the operand size: segment loads that change
/// it (POP SS, LSS) and ENTER's frames (SDM vol. 2, POP, LDS/LES/LFS/LGS/LSS, ENTER; vol. 1, 6.2.3).
/// </summary>
[TestClass]
public sealed class StackSizeTests
{
    /// <summary>GDT index 6: read/write data, base 0, limit FFFFh, B = 0 (a 16-bit stack).</summary>
    private const ushort Stack16 = 0x30;

    /// <summary>GDT index 7: expand-down read/write data, base 0, limit 7F000h, B = 1: offsets above 7F000h are valid.</summary>
    private const ushort StackExpandDown = 0x38;

    private static GuestRunner Protected(Action<Assembler> code, ushort ss, ulong esp, ulong ebp = 0)
    {
        var g = GuestRunner.Protected(a =>
        {
            code(a);
            a.mov(al, 0);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.SetGdt(6, Descriptors.Segment(0, 0xFFFF, 0x93, 0));
        g.SetGdt(7, Descriptors.Segment(0, 0x7F000, 0x97, 0x4));
        g.Cpu.SetSegment(SegmentIndex.SS, ss switch
        {
            Stack16 => new SegmentRegister { Selector = Stack16, Base = 0, Limit = 0xFFFF, Attributes = 0x93 },
            StackExpandDown => new SegmentRegister { Selector = StackExpandDown, Base = 0, Limit = 0x7F000, Attributes = 0x4097 },
            _ => g.Cpu.GetSegment(SegmentIndex.SS),
        });
        g.Cpu.Rsp = esp;
        g.Cpu.Rbp = ebp;
        return g;
    }

    [TestMethod]
    public void PopSsOnA16BitStackStepsSpEvenWhenTheNewSsIs32Bit_Vol2Pop()
    {
        // POP: "the stack pointer is incremented" by the stack's address size in force for the pop (SP here), before SS changes.
        using var g = Protected(a => a.pop(ss), Stack16, 0x0001FFFC);
        g.Memory.Write(0xFFFC, 4, GuestRunner.KernelData);
        g.AssertExit(0);
        Assert.AreEqual(GuestRunner.KernelData, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
        Assert.AreEqual(0x00010000UL, g.Cpu.Rsp, "SP wrapped to 0; ESP's upper half kept");
    }

    [TestMethod]
    public void PopSsOnA32BitStackStepsEspEvenWhenTheNewSsIs16Bit_Vol2Pop()
    {
        using var g = Protected(a => a.db(0x66, 0x17), GuestRunner.KernelData, 0xFFFE);
        g.Memory.Write(0xFFFE, 2, Stack16);
        g.AssertExit(0);
        Assert.AreEqual(Stack16, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
        Assert.AreEqual(0x10000UL, g.Cpu.Rsp, "ESP + 2, not SP wrapping to 0");
    }

    [TestMethod]
    public void LssLoadsTheOffsetOfTheOperandSize_Vol2Lss()
    {
        // LSS ESP loads all 32 bits whatever the new SS.B; with a 16-bit operand only SP.
        using (var g = Protected(a => a.lss(esp, __[0x9000]), GuestRunner.KernelData, 0x80000))
        {
            g.Memory.Write(0x9000, 4, 0x12345678);
            g.Memory.Write(0x9004, 2, Stack16);
            g.AssertExit(0);
            Assert.AreEqual(0x12345678UL, g.Cpu.Rsp);
            Assert.AreEqual(Stack16, g.Cpu.GetSegment(SegmentIndex.SS).Selector);
        }
        using (var g = Protected(a => a.lss(sp, __[0x9000]), GuestRunner.KernelData, 0xAAAA0000))
        {
            g.Memory.Write(0x9000, 2, 0x5678);
            g.Memory.Write(0x9002, 2, Stack16);
            g.AssertExit(0);
            Assert.AreEqual(0xAAAA5678UL, g.Cpu.Rsp);
        }
    }

    [TestMethod]
    public void Enter32OnA16BitStackTakesFrameTempFromAllOfEsp_Vol2Enter()
    {
        // ENTER, operation: OperandSize = 32: Push(EBP); FrameTemp := ESP; EBP := FrameTemp; the pushes and
        // the final stack pointer use SP (StackSize = 16), so ESP's upper half stays.
        using var g = Protected(a => a.enter(8, 0), Stack16, 0xABCD0100, 0x11112222);
        g.AssertExit(0);
        Assert.AreEqual(0x11112222UL, g.Memory.Read(0xFC, 4), "EBP pushed at SS:SP-4");
        Assert.AreEqual(0xABCD00FCUL, g.Cpu.Rbp);
        Assert.AreEqual(0xABCD00F4UL, g.Cpu.Rsp);
    }

    [TestMethod]
    public void Enter32OnA16BitStackReadsTheOuterFramesThroughBp_Vol2Enter()
    {
        // StackSize = 16: BP := BP - 4; Push([BP]), with BP's 16-bit arithmetic.
        using var g = Protected(a => a.enter(0, 2), Stack16, 0xABCD0100, 0x55550200);
        g.Memory.Write(0x1FC, 4, 0xCAFEF00D);
        g.AssertExit(0);
        Assert.AreEqual(0xCAFEF00DUL, g.Memory.Read(0xF8, 4), "the outer frame pointer copied");
        Assert.AreEqual(0xABCD00FCUL, g.Memory.Read(0xF4, 4), "FrameTemp pushed last");
        Assert.AreEqual(0xABCD00FCUL, g.Cpu.Rbp);
        Assert.AreEqual(0xABCD00F4UL, g.Cpu.Rsp);
    }

    [TestMethod]
    public void Enter16On32BitStackWritesOnlyBp_Vol2Enter()
    {
        // OperandSize = 16: Push(BP); FrameTemp := SP; BP := FrameTemp[15:0]; ESP steps by 32 bits.
        using var g = Protected(a => a.db(0x66, 0xC8, 0x04, 0x00, 0x00), GuestRunner.KernelData, 0x80000, 0x12345678);
        g.AssertExit(0);
        Assert.AreEqual(0x5678UL, g.Memory.Read(0x7FFFE, 2));
        Assert.AreEqual(0x1234FFFEUL, g.Cpu.Rbp);
        Assert.AreEqual(0x7FFFAUL, g.Cpu.Rsp);
    }

    [TestMethod]
    public void EnterCopiesLevelMinusOneFramePointersThenFrameTemp_Vol2Enter()
    {
        using var g = Protected(a => a.enter(0x10, 3), GuestRunner.KernelData, 0x80000, 0x81000);
        g.Memory.Write(0x80FFC, 4, 0xAAAA0001);
        g.Memory.Write(0x80FF8, 4, 0xAAAA0002);
        g.AssertExit(0);
        Assert.AreEqual(0x81000UL, g.Memory.Read(0x7FFFC, 4));
        Assert.AreEqual(0xAAAA0001UL, g.Memory.Read(0x7FFF8, 4));
        Assert.AreEqual(0xAAAA0002UL, g.Memory.Read(0x7FFF4, 4));
        Assert.AreEqual(0x7FFFCUL, g.Memory.Read(0x7FFF0, 4));
        Assert.AreEqual(0x7FFFCUL, g.Cpu.Rbp);
        Assert.AreEqual(0x7FFE0UL, g.Cpu.Rsp);
    }

    [TestMethod]
    public void EnterTakesTheNestingLevelMod32_Vol2Enter()
    {
        // NestingLevel := imm8 MOD 32: 33 acts as 1 (push rBP, push FrameTemp), 32 as 0.
        using (var g = Protected(a => a.enter(0, 33), GuestRunner.KernelData, 0x80000, 0x81000))
        {
            g.AssertExit(0);
            Assert.AreEqual(0x7FFFCUL, g.Memory.Read(0x7FFF8, 4));
            Assert.AreEqual(0x7FFFCUL, g.Cpu.Rbp);
            Assert.AreEqual(0x7FFF8UL, g.Cpu.Rsp);
        }
        using (var g = Protected(a => a.enter(0, 32), GuestRunner.KernelData, 0x80000, 0x81000))
        {
            g.AssertExit(0);
            Assert.AreEqual(0x7FFFCUL, g.Cpu.Rsp);
        }
    }

    [TestMethod]
    public void Enter16In64BitModeWritesOnlyBp_Vol2Enter()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.db(0x66, 0xC8, 0x00, 0x00, 0x00);
            a.mov(al, 0);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.Cpu.Rbp = 0x1111222233334444;
        g.AssertExit(0);
        Assert.AreEqual(0x4444UL, g.Memory.Read(0x7FFFE, 2));
        Assert.AreEqual(0x111122223333FFFEUL, g.Cpu.Rbp);
        Assert.AreEqual(0x7FFFEUL, g.Cpu.Rsp);
    }

    /// <summary>4-level paging with the low MiB identity-mapped but the page at 7E000h mapped with <paramref name="flags"/> (or not at all), RSP at 7F100h.</summary>
    private static GuestRunner BelowTheStack(ulong? flags, Action<Assembler> code)
    {
        var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, 0x7E000, RW);
        t.IdentityMap(0x7F000, 0x81000, RW);
        if (flags is { } f) t.Map(0x7E000, 0x7E000, f);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            code(a);
            a.mov(al, 0);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, Cr0.WP);
        g.InstallIdt(64);
        g.Cpu.Rsp = 0x7F100;
        g.Cpu.Rbp = 0x7F800;
        return g;
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void EnterFaultsWhenTheFinalStackPointerIsNotWritable_Vol2Enter(bool readOnly)
    {
        // ENTER checks the write of the final stack pointer (here 7EEF8h, in the page below the stack):
        // #PF with W/R = 1, and P = 1 for the read-only page; rBP and rSP are as before the instruction.
        using var g = BelowTheStack(readOnly ? 0 : null, a => a.enter(0x200, 0));
        Assert.AreEqual(ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(readOnly ? 3UL : 2UL, g.Stack(0, 8), "error code");
        Assert.AreEqual(0x7EEF8UL, g.Cpu.Cr2);
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(1, 8), "the fault is ENTER's");
        Assert.AreEqual(0x7F100UL, g.Stack(4, 8), "the saved RSP");
        Assert.AreEqual(0x7F800UL, g.Cpu.Rbp);
    }

    [TestMethod]
    public void EnterWithAWritableFinalStackPointerNeedsNoAccessBelowIt_Vol2Enter()
    {
        // The final stack pointer 7F0F8h - 0F8h = 7F000h is the mapped page's first byte.
        using var g = BelowTheStack(null, a => a.enter(0xF8, 0));
        g.AssertExit(0);
        Assert.AreEqual(0x7F000UL, g.Cpu.Rsp);
        Assert.AreEqual(0x7F0F8UL, g.Cpu.Rbp);
    }

    [TestMethod]
    public void EnterRaisesSsForAFinalStackPointerBelowAnExpandDownLimit_Vol2Enter()
    {
        // Protected-mode exceptions: #SS(0) "if the new value of the stack pointer is outside the stack segment limit".
        using var g = Protected(a => a.enter(0x200, 0), StackExpandDown, 0x7F100, 0x7F800);
        Assert.AreEqual(ExceptionVector.SS, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0), "error code");
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(1));
        Assert.AreEqual(0x7F800UL, g.Cpu.Rbp);
        Assert.AreEqual(0x7F100UL - 16, g.Cpu.Rsp, "EFLAGS, CS, EIP and the error code on the original ESP");
    }

    [TestMethod]
    public void EnterRaisesSsWhenANestingPushLeavesTheSegment_Vol2Enter()
    {
        // Level 31 pushes 31 doublewords below 7F040h; the 17th crosses the limit. Nothing changes.
        using var g = Protected(a => a.enter(0, 31), StackExpandDown, 0x7F040, 0x7F800);
        Assert.AreEqual(ExceptionVector.SS, g.RunToVector());
        Assert.AreEqual(0x7F800UL, g.Cpu.Rbp);
        Assert.AreEqual(0x7F040UL - 16, g.Cpu.Rsp, "EFLAGS, CS, EIP and the error code on the original ESP");
    }
}
