using Iced.Intel;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Alignment checking (SDM vol. 3, 6.15 "Interrupt 17—Alignment Check Exception"; vol. 1, 3.4.3.3).</summary>
[TestClass]
public sealed class AlignmentCheckTests
{
    private const ulong Data = 0x20000;

    /// <summary>User code at <see cref="GuestRunner.CodeAddress"/> with CR0.AM and EFLAGS.AC as given.</summary>
    private static GuestRunner User(Action<Assembler> code, bool am = true, bool ac = true)
    {
        var g = GuestRunner.Protected(code);
        g.Cpu.LoadControlState(g.Cpu.Cr0 | (am ? Cr0.AM : 0), 0, 0, 0);
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        if (ac) g.Cpu.Flags |= Rflags.AC;
        return g;
    }

    [TestMethod]
    [DataRow(2, 1)]
    [DataRow(4, 2)]
    [DataRow(4, 1)]
    public void MisalignedUserAccessRaisesAcWithErrorCodeZero_6_15(int size, int offset)
    {
        using var g = User(a =>
        {
            if (size == 2) a.mov(ax, __word_ptr[Data + (ulong)offset]);
            else a.mov(eax, __dword_ptr[Data + (ulong)offset]);
        });
        Assert.AreEqual(ExceptionVector.AC, g.RunToVector());
        Assert.AreEqual(0UL, g.Stack(0), "error code 0");
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(1), "a fault: EIP of the access");
        Assert.AreNotEqual(0UL, g.Stack(3) & Rflags.RF, "a fault saves RF = 1");
    }

    [TestMethod]
    public void QuadwordAtAMultipleOfFourButNotEightFaults_6_15()
    {
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rax, __qword_ptr[Data + 8]);
            a.mov(rax, __qword_ptr[Data + 4]);
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.AM, g.Cpu.Cr3, g.Cpu.Cr4, g.Cpu.Efer);
        g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
        g.Cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0x23, Limit = 0xFFFFFFFF, Attributes = 0xC0F3 });
        g.Cpu.Flags |= Rflags.AC;
        Assert.AreEqual(ExceptionVector.AC, g.RunToVector());
        var second = GuestRunner.CodeAddress + (ulong)GuestRunner.Assemble(64, GuestRunner.CodeAddress, a => a.mov(rax, __qword_ptr[Data + 8])).Length;
        Assert.AreEqual(second, g.Memory.Read(g.Cpu.Rsp + 8, 8), "the aligned load passed, the second faulted");
    }

    [TestMethod]
    public void Cmpxchg8bChecksItsWholeQuadword_Table6_7()
    {
        // Each dword half is aligned at 20004h; the quadword operand is not (found against Bochs).
        using var g = User(a => a.cmpxchg8b(__qword_ptr[Data + 4]));
        Assert.AreEqual(ExceptionVector.AC, g.RunToVector());
        Assert.AreEqual(GuestRunner.CodeAddress, g.Stack(1), "a fault: EIP of CMPXCHG8B");
    }

    [TestMethod]
    public void AlignedAccessesAndBytesNeverFault_6_15()
    {
        using var g = User(a =>
        {
            a.mov(ax, __word_ptr[Data + 2]);
            a.mov(eax, __dword_ptr[Data + 4]);
            a.mov(al, __byte_ptr[Data + 7]);
            a.push(eax);
            a.hlt();
        });
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "only the user-mode HLT faults");
    }

    [TestMethod]
    [DataRow(false, true)]
    [DataRow(true, false)]
    public void NoCheckUnlessBothCr0AmAndEflagsAcAreSet_6_15(bool am, bool ac)
    {
        using var g = User(a =>
        {
            a.mov(eax, __dword_ptr[Data + 1]);
            a.hlt();
        }, am, ac);
        Assert.AreEqual(ExceptionVector.GP, g.RunToVector(), "the misaligned load passes; the HLT at CPL 3 faults");
    }

    [TestMethod]
    public void SupervisorAccessesAreNeverChecked_6_15()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(eax, __dword_ptr[Data + 1]);
            a.hlt();
        });
        g.Cpu.LoadControlState(g.Cpu.Cr0 | Cr0.AM, 0, 0, 0);
        g.Cpu.Flags |= Rflags.AC;
        Assert.AreEqual(StopReason.Halted, g.Run());
        Assert.AreEqual(-1, g.HaltedVector, "CPL 0");
    }

    [TestMethod]
    public void ImplicitSupervisorDescriptorReadsAtCpl3AreNotChecked_6_15()
    {
        using var g = User(a =>
        {
            a.mov(eax, (int)GuestRunner.UserData);
            a.mov(ds, eax);
            a.mov(eax, __dword_ptr[Data + 1]);
        });
        // The GDT moved to an odd address: the descriptor read at CPL 3 is a supervisor access.
        var gdt = new byte[g.Cpu.Gdtr.Limit + 1];
        for (var i = 0; i < gdt.Length; i++) gdt[i] = (byte)g.Memory.Read(GuestRunner.GdtAddress + (ulong)i, 1);
        g.Memory.WriteBytes(0x6001, gdt);
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = 0x6001, Limit = g.Cpu.Gdtr.Limit };
        Assert.AreEqual(ExceptionVector.AC, g.RunToVector(), "MOV DS passed; the explicit load faults");
        Assert.AreEqual(GuestRunner.CodeAddress + 7, g.Stack(1));
    }

    [TestMethod]
    public void PopfSettingAcTurnsCheckingOnForTheNextAccess_3_4_3_3()
    {
        using var g = User(a =>
        {
            a.mov(eax, __dword_ptr[Data + 1]);
            a.pushfd();
            a.or(__dword_ptr[esp], (int)Rflags.AC);
            a.popfd();
            a.mov(eax, __dword_ptr[Data + 1]);
        }, ac: false);
        Assert.AreEqual(ExceptionVector.AC, g.RunToVector());
        var second = GuestRunner.CodeAddress + (ulong)GuestRunner.Assemble(32, GuestRunner.CodeAddress, a =>
        {
            a.mov(eax, __dword_ptr[Data + 1]);
            a.pushfd();
            a.or(__dword_ptr[esp], (int)Rflags.AC);
            a.popfd();
        }).Length;
        Assert.AreEqual(second, g.Stack(1), "the first load filled the TLB; the second still faults");
    }
}
