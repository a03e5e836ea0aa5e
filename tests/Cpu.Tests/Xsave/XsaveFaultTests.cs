using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;
using static Sim.Cpu.Tests.Xsave.XsaveGuest;

namespace Sim.Cpu.Tests.Xsave;

/// <summary>
/// The exceptions of the XSAVE family (SDM vol. 2, each instruction's exception lists; vol. 1, 13.7–13.13): #UD without
/// CR4.OSXSAVE or with LOCK, #NM with CR0.TS (CR0.EM does not matter), #GP(0) for an area not 64-byte aligned and for
/// XSAVES/XRSTORS at CPL &gt; 0, and page faults that leave memory and registers as they were.
/// </summary>
[TestClass]
public sealed class XsaveFaultTests
{
    [TestMethod]
    public void WithoutOsxsaveEveryFormIsUndefined()
    {
        foreach (var form in new Action<Iced.Intel.Assembler>[]
        {
            a => a.xsave(__[rsi]), a => a.xrstor(__[rsi]), a => a.xsaveopt(__[rsi]), a => a.xsavec(__[rsi]),
            a => a.xsaves(__[rsi]), a => a.xrstors(__[rsi]),
        })
        {
            using var g = Long(form, osxsave: false);
            Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
        }
    }

    [TestMethod]
    [DataRow(new byte[] { 0xF0, 0x0F, 0xAE, 0x26 }, DisplayName = "LOCK XSAVE")]
    [DataRow(new byte[] { 0xF0, 0x0F, 0xAE, 0x2E }, DisplayName = "LOCK XRSTOR")]
    [DataRow(new byte[] { 0xF0, 0x0F, 0xC7, 0x26 }, DisplayName = "LOCK XSAVEC")]
    public void LockIsUndefined(byte[] encoding)
    {
        using var g = Long(a => a.db(encoding));
        Assert.AreEqual((int)ExceptionVector.UD, g.RunToVector());
    }

    [TestMethod]
    public void TaskSwitchedFaultsWithNmButEmulationDoesNot()
    {
        using (var g = Long(a => { a.mov(rax, cr0); a.or(rax, (int)Cr0.TS); a.mov(cr0, rax); Mask(a, 7); a.xsave(__[rsi]); }))
            Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector());
        using (var g = Long(a => { a.mov(rax, cr0); a.or(rax, (int)Cr0.TS); a.mov(cr0, rax); Mask(a, 7); a.xrstor(__[rsi]); }))
            Assert.AreEqual((int)ExceptionVector.NM, g.RunToVector());
        using (var g = Long(a => { a.mov(rax, cr0); a.or(rax, (int)Cr0.EM); a.mov(cr0, rax); Mask(a, 7); a.xsave(__[rsi]); }))
        {
            RunToEnd(g);
            Assert.AreEqual(0x0040UL, g.Memory.Read(Area, 2), "FCW (its power-up value) saved with CR0.EM = 1");
        }
    }

    [TestMethod]
    [DataRow(16)]
    [DataRow(32)]
    [DataRow(8)]
    public void AnAreaNot64ByteAlignedFaults(int offset)
    {
        foreach (var form in new Action<Iced.Intel.Assembler>[] { a => a.xsave64(__[rsi + offset]), a => a.xrstor64(__[rsi + offset]), a => a.xsavec64(__[rsi + offset]) })
        {
            using var g = Long(a => { Mask(a, 7); form(a); });
            Header(g, Area + (ulong)offset, 0);
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
            AssertUntouched(g, 640, 800, "the area");
        }
    }

    [TestMethod]
    public void SupervisorFormsFaultAtCpl3()
    {
        foreach (var form in new Action<Iced.Intel.Assembler>[] { a => a.xsaves(__[rsi]), a => a.xrstors(__[rsi]) })
        {
            using var g = Long(a => { Mask(a, 7); a.mov(rbx, rsi); form(a); });
            g.EnterUser32(GuestRunner.CodeAddress, 0x60000);
            g.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Base = 0, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
            // CR4 and XCR0 as the CPL-0 prologue would leave them (it cannot run at CPL 3).
            g.Cpu.LoadControlState(g.Cpu.Cr0, g.Cpu.Cr3, g.Cpu.Cr4 | Cr4.OSFXSR | Cr4.OSXSAVE, g.Cpu.Efer);
            g.Cpu.Xcr0 = 7;
            g.Cpu.Rip = GuestRunner.CodeAddress + PrologueLength();
            g.Cpu.Rsi = Area;
            Assert.AreEqual((int)ExceptionVector.GP, g.RunToVector());
        }
    }

    /// <summary>The length of <see cref="XsaveGuest.Long"/>'s prologue (MOV CR4, XSETBV, MOV RSI), to start user code after it.</summary>
    private static ulong PrologueLength() =>
        (ulong)GuestRunner.Assemble(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rax, cr4);
            a.or(rax, (int)(Cr4.OSFXSR | Cr4.OSXMMEXCPT | Cr4.OSXSAVE));
            a.mov(cr4, rax);
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7u);
            a.xsetbv();
            a.mov(rsi, Area);
        }).Length;

    private static GuestRunner Paged(Action<Iced.Intel.Assembler> body, ulong boundary, ulong area)
    {
        var g = new GuestRunner();
        var t = new PageTableBuilder(g.Memory, PagingMode.FourLevel);
        t.IdentityMap(0, boundary, PageTableBuilder.RW);
        t.IdentityMap(boundary + 0x1000, 0x100000 - boundary - 0x1000, PageTableBuilder.RW);
        g.Code(64, GuestRunner.CodeAddress, a =>
        {
            a.xor(ecx, ecx);
            a.xor(edx, edx);
            a.mov(eax, 7);
            a.xsetbv();
            a.mov(rdi, area);
            Mask(a, 7);
            body(a);
            a.hlt();
        });
        g.StartPaged(GuestRunner.CodeAddress, t, cr4Extra: Cr4.OSFXSR | Cr4.OSXSAVE);
        g.InstallIdt(64);
        return g;
    }

    [TestMethod]
    public void XsaveChecksTheWholeAreaBeforeWritingAny()
    {
        const ulong boundary = 0x21000;
        using var g = Paged(a => a.xsave64(__[rdi]), boundary, boundary - 512);
        g.Memory.WriteBytes(boundary - 512, Enumerable.Repeat(Fill, 512).ToArray());
        FillState(g.Cpu);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(boundary, g.Cpu.Cr2, "the header at 512 is on the missing page");
        var first = new byte[512];
        g.Memory.ReadBytes(boundary - 512, first);
        Assert.IsTrue(first.All(b => b == Fill), "the legacy region, on the present page, is not written");
    }

    [TestMethod]
    public void XrstorThatFaultsOnTheAvxStateLeavesEveryRegisterAsItWas()
    {
        const ulong boundary = 0x21000;
        using var g = Paged(a => a.xrstor64(__[rdi]), boundary, boundary - 576);
        // The area starts at boundary - 576: legacy region and header present, the AVX state at 576 on the missing page.
        g.Memory.WriteBytes(boundary - 576, new byte[576]);
        g.Memory.Write(boundary - 576, 2, 0x037F);
        g.Memory.Write(boundary - 576 + 512, 8, 7);
        FillState(g.Cpu);
        Assert.AreEqual((int)ExceptionVector.PF, g.RunToVector());
        Assert.AreEqual(boundary, g.Cpu.Cr2);
        Assert.AreEqual(0x027A, g.Cpu.FpuControlWord, "x87 state not loaded");
        Assert.AreEqual(0x1F81u, g.Cpu.Mxcsr);
        Assert.AreNotEqual(0, g.Cpu.VectorRegister(0)[0], "XMM0 not loaded");
    }
}
