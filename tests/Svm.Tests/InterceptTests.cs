using Iced.Intel;
using Sim.Cpu;
using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// Each intercept triggered by a guest program under the interpreter, with EXITCODE (APM vol. 2,
/// appendix C), EXITINFO1/EXITINFO2, EXITINTINFO and nRIP (15.7.1) as the APM defines them.
/// </summary>
[TestClass]
public sealed class InterceptTests
{
    [TestMethod]
    public void CpuidExitsWithNextRip()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, 0x80000001); a.cpuid(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Cpuid);
        var v = m.RunToExit(SvmExitCode.Cpuid);
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.Rip, "the guest RIP is the intercepted CPUID");
        Assert.AreEqual(SvmTestMachine.GuestCode + 7, v.NRip, "nRIP: the instruction after CPUID (2 bytes)");
        Assert.AreEqual(0x80000001UL, v.Rax);
        Assert.AreEqual(0UL, v.ExitIntInfo);
        Assert.AreEqual(SvmTestMachine.HostCode, m.Cpu.Rip, "the host resumes where it executed VMRUN");
        Assert.IsFalse(m.Cpu.GlobalInterruptFlag, "#VMEXIT clears GIF (15.6)");
        Assert.AreEqual(0, m.Cpu.TranslationTag, "the host's translations are tag 0");
        Assert.AreEqual(0x400UL, m.Cpu.GetDebugRegister(7), "#VMEXIT disables the host's breakpoints");
    }

    [TestMethod]
    public void NotInterceptedCpuidRunsInTheGuest()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.xor(eax, eax); a.cpuid(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0xDUL, v.Rax, "CPUID 0 ran in the guest: EAX = the maximum basic leaf (0Dh on AMD)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 4, v.Rip);
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.NRip);
    }

    private sealed record InstructionCase(string Name, SvmIntercept Intercept, ulong ExitCode, Action<Assembler> Setup, Action<Assembler> Instruction, ulong ExitInfo1 = 0);

    private static readonly InstructionCase[] InstructionCases =
    [
        new("RDTSC", SvmIntercept.Rdtsc, SvmExitCode.Rdtsc, _ => { }, a => a.rdtsc()),
        new("RDTSCP", SvmIntercept.Rdtscp, SvmExitCode.Rdtscp, _ => { }, a => a.rdtscp()),
        new("RDPMC", SvmIntercept.Rdpmc, SvmExitCode.Rdpmc, a => a.xor(ecx, ecx), a => a.rdpmc()),
        new("PUSHF", SvmIntercept.Pushf, SvmExitCode.Pushf, _ => { }, a => a.pushfd()),
        new("POPF", SvmIntercept.Popf, SvmExitCode.Popf, a => a.push(0x202), a => a.popfd()),
        new("RSM", SvmIntercept.Rsm, SvmExitCode.Rsm, _ => { }, a => a.rsm()),
        new("IRET", SvmIntercept.Iret, SvmExitCode.Iret, _ => { }, a => a.iretd()),
        new("INT n (EXITINFO1 = vector, decode assist)", SvmIntercept.Intn, SvmExitCode.Swint, _ => { }, a => a.@int(0x21), 0x21),
        new("INVD", SvmIntercept.Invd, SvmExitCode.Invd, _ => { }, a => a.invd()),
        new("WBINVD", SvmIntercept.Wbinvd, SvmExitCode.Wbinvd, _ => { }, a => a.wbinvd()),
        new("PAUSE", SvmIntercept.Pause, SvmExitCode.Pause, _ => { }, a => a.pause()),
        new("HLT", SvmIntercept.Hlt, SvmExitCode.Hlt, _ => { }, a => a.hlt()),
        new("INVLPG (EXITINFO1 = linear address)", SvmIntercept.Invlpg, SvmExitCode.Invlpg, a => a.mov(ebx, 0x12000), a => a.invlpg(__byte_ptr[ebx + 0x345]), 0x12345),
        new("INVLPGA", SvmIntercept.Invlpga, SvmExitCode.Invlpga, _ => { }, a => a.invlpga()),
        new("VMRUN", SvmIntercept.Vmrun, SvmExitCode.Vmrun, a => a.mov(eax, 0x42000), a => a.vmrun()),
        new("VMMCALL", SvmIntercept.Vmmcall, SvmExitCode.Vmmcall, _ => { }, a => a.vmmcall()),
        new("VMLOAD", SvmIntercept.Vmload, SvmExitCode.Vmload, a => a.mov(eax, 0x42000), a => a.vmload()),
        new("VMSAVE", SvmIntercept.Vmsave, SvmExitCode.Vmsave, a => a.mov(eax, 0x42000), a => a.vmsave()),
        new("STGI", SvmIntercept.Stgi, SvmExitCode.Stgi, _ => { }, a => a.stgi()),
        new("CLGI", SvmIntercept.Clgi, SvmExitCode.Clgi, _ => { }, a => a.clgi()),
        new("ICEBP", SvmIntercept.Icebp, SvmExitCode.Icebp, _ => { }, a => a.int1()),
        new("MONITOR", SvmIntercept.Monitor, SvmExitCode.Monitor, a => { a.mov(eax, 0x60000); a.xor(ecx, ecx); a.xor(edx, edx); }, a => a.monitor()),
        new("MWAIT", SvmIntercept.Mwait, SvmExitCode.Mwait, a => { a.xor(eax, eax); a.xor(ecx, ecx); }, a => a.mwait()),
        new("SIDT", SvmIntercept.IdtrRead, SvmExitCode.IdtrRead, _ => { }, a => a.sidt(__[0x60000])),
        new("SGDT", SvmIntercept.GdtrRead, SvmExitCode.GdtrRead, _ => { }, a => a.sgdt(__[0x60000])),
        new("SLDT", SvmIntercept.LdtrRead, SvmExitCode.LdtrRead, _ => { }, a => a.sldt(ax)),
        new("STR", SvmIntercept.TrRead, SvmExitCode.TrRead, _ => { }, a => a.str(ax)),
        new("LIDT", SvmIntercept.IdtrWrite, SvmExitCode.IdtrWrite, _ => { }, a => a.lidt(__[0x60000])),
        new("LGDT", SvmIntercept.GdtrWrite, SvmExitCode.GdtrWrite, _ => { }, a => a.lgdt(__[0x60000])),
        new("LLDT", SvmIntercept.LdtrWrite, SvmExitCode.LdtrWrite, a => a.xor(eax, eax), a => a.lldt(ax)),
        new("LTR", SvmIntercept.TrWrite, SvmExitCode.TrWrite, a => a.mov(eax, 0x20), a => a.ltr(ax)),
    ];

    [TestMethod]
    public void EachInstructionInterceptExitsWithItsCodeAndNextRip()
    {
        foreach (var c in InstructionCases)
        {
            using var m = new SvmTestMachine();
            var setup = SvmTestMachine.Assemble(32, SvmTestMachine.GuestCode, c.Setup);
            var at = SvmTestMachine.GuestCode + (ulong)setup.Length;
            var instruction = SvmTestMachine.Assemble(32, at, c.Instruction);
            m.Memory.WriteBytes(SvmTestMachine.GuestCode, setup);
            m.Memory.WriteBytes(at, instruction);
            m.Memory.Write(at + (ulong)instruction.Length, 1, 0xF4);
            m.Vmcb.Intercept(c.Intercept);
            m.RunGuest();
            var v = m.Vmcb;
            Assert.AreEqual(c.ExitCode, v.ExitCode, $"{c.Name}: EXITCODE (appendix C)");
            Assert.AreEqual(at, v.Rip, $"{c.Name}: the guest RIP is the intercepted instruction");
            Assert.AreEqual(at + (ulong)instruction.Length, v.NRip, $"{c.Name}: nRIP");
            Assert.AreEqual(c.ExitInfo1, v.ExitInfo1, $"{c.Name}: EXITINFO1");
            Assert.AreEqual(0UL, v.ExitIntInfo, $"{c.Name}: EXITINTINFO");
        }
    }

    [TestMethod]
    public void InstructionsWithoutTheirInterceptRunInTheGuest()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.rdtsc(); a.pushfd(); a.popfd(); a.pause(); a.wbinvd(); a.mov(ecx, 0xC0000081); a.rdmsr(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(SvmTestMachine.GuestCode + 15, v.Rip, "RDTSC, PUSHFD, POPFD, PAUSE, WBINVD, MOV and RDMSR all ran");
    }

    [TestMethod]
    public void VmmcallWithoutTheInterceptRaisesUdInTheGuest()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.vmmcall(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.UD, m.GuestStubVector(v.Rip), "VMMCALL not intercepted raises #UD (APM vol. 3, VMMCALL)");
    }

    [TestMethod]
    public void IoInterceptReportsPortSizeAndNextRip()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.IopmPa + (0x80 >> 3), 1, 1UL << (0x80 & 7));
        m.GuestProgram(a => { a.mov(al, 1); a.@out(0x81, al); a.@out(0x80, al); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.IoioProt);
        var v = m.RunToExit(SvmExitCode.Ioio);
        Assert.AreEqual(SvmTestMachine.GuestCode + 4, v.Rip, "OUT 81h (bit clear) ran, OUT 80h exits");
        Assert.AreEqual((0x80UL << 16) | (1UL << 4) | (1UL << 8), v.ExitInfo1, "PORT 80h, SZ8, A32, TYPE = OUT (15.10.2)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 6, v.ExitInfo2, "EXITINFO2: the next RIP");
        Assert.AreEqual(v.ExitInfo2, v.NRip);
        Assert.AreEqual(0x81, m.Bus.Writes.Single().Port);
    }

    [TestMethod]
    public void IoInterceptChecksEveryByteOfTheAccess()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.IopmPa + (0x3F9 >> 3), 1, 1UL << (0x3F9 & 7));
        m.GuestProgram(a => { a.mov(dx, 0x3F8); a.@in(eax, dx); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.IoioProt);
        var v = m.RunToExit(SvmExitCode.Ioio);
        Assert.AreEqual((0x3F8UL << 16) | 1 | (1UL << 6) | (1UL << 8), v.ExitInfo1, "a 4-byte IN at 3F8h touches 3F9h: TYPE = IN, SZ32, A32");
    }

    [TestMethod]
    public void StringIoInterceptReportsRepAndSegment()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.IopmPa + (0xE9 >> 3), 1, 1UL << (0xE9 & 7));
        m.GuestProgram(a => { a.mov(dx, 0xE9); a.mov(esi, 0x60000); a.mov(ecx, 4); a.rep.outsw(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.IoioProt);
        var v = m.RunToExit(SvmExitCode.Ioio);
        Assert.AreEqual((0xE9UL << 16) | (1UL << 2) | (1UL << 3) | (1UL << 5) | (1UL << 8) | ((ulong)SegmentIndex.DS << 10), v.ExitInfo1,
            "OUTSW with REP: STR, REP, SZ16, A32, SEG = DS");
    }

    [TestMethod]
    public void MsrInterceptFollowsThePermissionMap()
    {
        using var m = new SvmTestMachine();
        // STAR (C000_0081h): read bit 2 * 81h, write bit 2 * 81h + 1 in the second 2 KiB (15.11).
        m.Memory.Write(SvmTestMachine.MsrpmPa + 0x800 + 0x81 * 2 / 8, 1, 1UL << (0x81 * 2 % 8 + 1));
        m.GuestProgram(a =>
        {
            a.mov(ecx, 0xC0000081); a.rdmsr(); a.wrmsr(); a.hlt();
        });
        m.Vmcb.Intercept(SvmIntercept.MsrProt);
        var v = m.RunToExit(SvmExitCode.Msr);
        Assert.AreEqual(SvmTestMachine.GuestCode + 7, v.Rip, "RDMSR (read bit clear) ran; WRMSR exits");
        Assert.AreEqual(1UL, v.ExitInfo1, "EXITINFO1 = 1 for WRMSR");
        Assert.AreEqual(SvmTestMachine.GuestCode + 9, v.NRip);
    }

    [TestMethod]
    public void MsrReadInterceptAndMsrsOutsideTheMapAlwaysExit()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.MsrpmPa + 0x10 * 2 / 8, 1, 1UL << (0x10 * 2 % 8));
        m.GuestProgram(a => { a.mov(ecx, 0x10); a.rdmsr(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.MsrProt);
        var v = m.RunToExit(SvmExitCode.Msr);
        Assert.AreEqual(0UL, v.ExitInfo1, "EXITINFO1 = 0 for RDMSR");

        using var outside = new SvmTestMachine();
        outside.GuestProgram(a => { a.mov(ecx, 0x40000000); a.rdmsr(); a.hlt(); });
        outside.Vmcb.Intercept(SvmIntercept.MsrProt);
        outside.RunToExit(SvmExitCode.Msr);
    }

    [TestMethod]
    public void CrReadAndWriteExitWithDecodeAssist()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(esi, cr3); a.hlt(); });
        m.Vmcb.InterceptCrRead(3);
        var v = m.RunToExit(SvmExitCode.CrRead + 3);
        Assert.AreEqual((1UL << 63) | 6, v.ExitInfo1, "MOV CR: bit 63 set, GPR 6 (ESI) in bits 3:0 (15.33.1)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 3, v.NRip);

        using var w = new SvmTestMachine();
        w.GuestProgram(a => { a.mov(ebx, 0x10); a.mov(cr4, ebx); a.hlt(); });
        w.Vmcb.InterceptCrWrite(4);
        v = w.RunToExit(SvmExitCode.CrWrite + 4);
        Assert.AreEqual((1UL << 63) | 3, v.ExitInfo1, "the source GPR EBX = 3");
        Assert.AreEqual(0UL, v.Read(VmcbLayout.Cr4, 8), "CR4 was not written");
    }

    [TestMethod]
    public void SelectiveCr0WriteIgnoresTsAndMp()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a =>
        {
            a.mov(eax, cr0); a.or(eax, 0xA); a.mov(cr0, eax); // TS and MP only: no exit
            a.or(eax, 1 << 16); a.mov(cr0, eax); // WP: exit
            a.hlt();
        });
        m.Vmcb.Intercept(SvmIntercept.Cr0SelectiveWrite);
        var v = m.RunToExit(SvmExitCode.Cr0SelWrite);
        Assert.AreEqual(1UL << 16, v.Rax & (1UL << 16), "the MOV CR0 that sets WP exits (15.9.1)");
        Assert.AreEqual(0xAUL, v.Read(VmcbLayout.Cr0, 8) & 0xA, "the first write set TS and MP");
        Assert.AreEqual((1UL << 63) | 0, v.ExitInfo1);

        using var lmsw = new SvmTestMachine();
        lmsw.GuestProgram(a => { a.mov(eax, 0x5); a.lmsw(ax); a.hlt(); });
        lmsw.Vmcb.Intercept(SvmIntercept.Cr0SelectiveWrite);
        v = lmsw.RunToExit(SvmExitCode.Cr0SelWrite);
        Assert.AreEqual(0UL, v.ExitInfo1, "LMSW setting EM: no MOV decode information");
    }

    [TestMethod]
    public void LmswTreatsTheSelectiveCr0WriteInterceptAsNonSelective()
    {
        // APM vol. 2, table 15-7: LMSW treats the selective CR0-write intercept as a non-selective
        // one, intercepting whatever value is written; here LMSW changes no bit at all.
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, 0x1); a.lmsw(ax); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Cr0SelectiveWrite);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Cr0SelWrite);
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.Rip, "the LMSW");
        Assert.AreEqual(0UL, v.ExitInfo1, "LMSW: no MOV decode information (15.8.1)");
    }

    [TestMethod]
    public void SmswIsInterceptedAsACr0ReadWithoutDecodeInformation()
    {
        // APM vol. 2, table 15-7: the CR0 read intercept is checked by SMSW too, before its memory
        // exceptions; 15.8.1: for SMSW no information is provided and EXITINFO1 bit 63 is clear.
        foreach (var toMemory in new[] { false, true })
        {
            using var m = new SvmTestMachine();
            m.GuestProgram(a => { a.nop(); if (toMemory) a.smsw(__word_ptr[0x7FFFFFF0]); else a.smsw(eax); a.hlt(); });
            m.Vmcb.InterceptCrRead(0);
            m.Vmcb.Write(VmcbLayout.Rax, 8, 0x1234);
            var v = m.RunToExit(SvmExitCode.CrRead + 0);
            Assert.AreEqual(SvmTestMachine.GuestCode + 1, v.Rip, $"memory={toMemory}: the SMSW, not yet executed");
            Assert.AreEqual(0UL, v.ExitInfo1, $"memory={toMemory}");
            Assert.AreEqual(0xF4UL, m.Memory.Read(v.NRip, 1), $"memory={toMemory}: nRIP past the SMSW, at the HLT");
            Assert.AreEqual(0x1234UL, v.Rax);
        }
    }

    [TestMethod]
    public void PushfPopfAndIntnInterceptsComeBeforeVirtual8086Faults()
    {
        // APM vol. 2, table 15-7: the PUSHF and POPF intercepts take priority over any exceptions, and
        // the INTn intercept occurs before any exceptions are checked: in virtual-8086 mode with
        // IOPL < 3, where each would raise #GP, the intercept wins.
        var cases = new (SvmIntercept Intercept, ulong ExitCode, Action<Iced.Intel.Assembler> Code)[]
        {
            (SvmIntercept.Pushf, SvmExitCode.Pushf, a => a.pushf()),
            (SvmIntercept.Popf, SvmExitCode.Popf, a => a.popf()),
            (SvmIntercept.Intn, SvmExitCode.Swint, a => a.@int(0x21)),
        };
        foreach (var (intercept, exitCode, code) in cases)
        {
            using var m = new SvmTestMachine();
            var v = m.Vmcb;
            v.Segment(VmcbLayout.Cs, 0x2000, 0xF3, 0xFFFF, 0x20000);
            foreach (var segment in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss }) v.Segment(segment, 0x1000, 0xF3, 0xFFFF, 0x10000);
            v.Write(VmcbLayout.Rflags, 8, Rflags.VM | 2);
            v.Write(VmcbLayout.Rip, 8, 0);
            v.Write(VmcbLayout.Rsp, 8, 0x100);
            v.Write(VmcbLayout.Cpl, 1, 3);
            m.GuestProgram(code, 16);
            v.Intercept(intercept);
            v.InterceptException(ExceptionVector.GP);
            var exit = m.RunToExit(exitCode);
            Assert.AreEqual(0UL, exit.Rip, $"{intercept}: the instruction, not executed");
        }
    }

    [TestMethod]
    public void LgdtAndLidtInterceptsComeBeforeTheirMemoryAccess()
    {
        // APM vol. 2, table 15-7: the IDTR/GDTR write intercept is checked after #UD and #GP checks but
        // before any memory access: an operand past the DS limit (#GP) still gives the intercept.
        foreach (var lidt in new[] { false, true })
        {
            using var m = new SvmTestMachine();
            m.Vmcb.Segment(VmcbLayout.Ds, SvmTestMachine.Data, 0x093, 0xFFF, 0);
            m.GuestProgram(a => { if (lidt) a.lidt(__fword_ptr[0x2000]); else a.lgdt(__fword_ptr[0x2000]); a.hlt(); });
            m.Vmcb.Intercept(lidt ? SvmIntercept.IdtrWrite : SvmIntercept.GdtrWrite);
            m.Vmcb.InterceptException(ExceptionVector.GP);
            var v = m.RunToExit(lidt ? SvmExitCode.IdtrWrite : SvmExitCode.GdtrWrite);
            Assert.AreEqual(SvmTestMachine.GuestCode, v.Rip);
        }
    }

    [TestMethod]
    public void ExceptionDuringDeliveryIsInterceptedBeforeCombining()
    {
        // APM vol. 2, 15.12: an exception raised while delivering a prior one is checked for its
        // intercept before being combined (into #DF); EXITINTINFO holds the prior exception (15.7.2).
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.GuestIdt32 + ExceptionVector.GP * 8, 8, SvmTestMachine.Gate(SvmTestMachine.Code32, SvmTestMachine.GuestStubs, 0xE, 0) & ~(1UL << 47));
        m.GuestProgram(a => { a.mov(eax, 0x1234); a.mov(ds, ax); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.NP);
        m.Vmcb.InterceptException(ExceptionVector.DF);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.NP);
        Assert.AreEqual((ulong)ExceptionVector.GP * 8 + 2 + 1, v.ExitInfo1, "#NP(IDT entry 13, EXT)");
        Assert.AreEqual(SvmEventInjection.Encode(ExceptionVector.GP, SvmEventInjection.TypeException, 0x1234, true), v.ExitIntInfo, "the #GP being delivered");
    }

    [TestMethod]
    public void Cr0WriteInterceptTakesPriorityOverSelective()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.clts(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Cr0SelectiveWrite);
        m.Vmcb.InterceptCrWrite(0);
        var v = m.RunToExit(SvmExitCode.CrWrite + 0);
        Assert.AreEqual(0UL, v.ExitInfo1, "CLTS: bit 63 clear");
    }

    [TestMethod]
    public void DrAccessFaultsComeBeforeTheDrIntercept()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, dr4); a.hlt(); });
        m.Vmcb.Write(VmcbLayout.Cr4, 8, m.Vmcb.Read(VmcbLayout.Cr4, 8) | Cr4.DE);
        m.Vmcb.InterceptDrRead(4);
        m.Vmcb.InterceptException(ExceptionVector.UD);
        // With CR4.DE = 1, MOV from DR4 raises #UD; the instruction's own exception precedes its intercept.
        m.RunToExit(SvmExitCode.Exception + ExceptionVector.UD);
    }

    [TestMethod]
    public void DrAccessExitsWithTheGpr()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, dr7); a.mov(ecx, 0x1000); a.mov(dr3, ecx); a.hlt(); });
        m.Vmcb.InterceptDrRead(7);
        var v = m.RunToExit(SvmExitCode.DrRead + 7);
        Assert.AreEqual(0UL, v.ExitInfo1);

        using var w = new SvmTestMachine();
        w.GuestProgram(a => { a.mov(ecx, 0x1000); a.mov(dr3, ecx); a.hlt(); });
        w.Vmcb.InterceptDrWrite(3);
        v = w.RunToExit(SvmExitCode.DrWrite + 3);
        Assert.AreEqual(1UL, v.ExitInfo1, "GPR ECX = 1 (decode assist)");
    }

    [TestMethod]
    public void GeneralProtectionExitCarriesTheErrorCode()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.mov(eax, 0x1230); a.mov(ds, ax); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.GP);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        Assert.AreEqual(0x1230UL, v.ExitInfo1, "EXITINFO1: the error code (selector beyond the GDT limit)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.Rip, "a fault: RIP of the faulting MOV");
        Assert.AreEqual(0UL, v.ExitIntInfo);
    }

    [TestMethod]
    public void PageFaultExitReportsTheAddressAndLeavesCr2()
    {
        using var m = new SvmTestMachine();
        m.LongModeGuest();
        m.GuestProgram(a => { a.mov(rax, 0x4000_0008); a.mov(rbx, __qword_ptr[rax]); a.hlt(); }, 64);
        m.Vmcb.Write(VmcbLayout.Cr2, 8, 0x77);
        m.Vmcb.InterceptException(ExceptionVector.PF);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.PF);
        Assert.AreEqual(0UL, v.ExitInfo1, "error code: not present, read, supervisor");
        Assert.AreEqual(0x4000_0008UL, v.ExitInfo2, "EXITINFO2: the faulting address (15.12.15)");
        Assert.AreEqual(0x77UL, v.Read(VmcbLayout.Cr2, 8), "CR2 is not written by an intercepted #PF");
        Assert.AreEqual(15UL, v.Read(VmcbLayout.NumberOfBytesFetched, 1), "decode assist: 15 bytes fetched at the guest RIP (15.33.3)");
        Assert.AreEqual(0x188B48UL, v.Read(VmcbLayout.GuestInstructionBytes, 4) & 0xFFFFFF, "MOV RBX,[RAX] = 48 8B 18");
    }

    [TestMethod]
    public void Int3IsInterceptedAsAnExceptionWithNextRip()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.nop(); a.int3(); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.BP);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.BP);
        Assert.AreEqual(SvmTestMachine.GuestCode + 1, v.Rip);
        Assert.AreEqual(SvmTestMachine.GuestCode + 2, v.NRip);
    }

    [TestMethod]
    public void BoundRangeInterceptSavesNextRip()
    {
        // APM vol. 2, 15.7.1: nRIP is saved for exceptions caused by INT3, INTO and BOUND; 15.12: the
        // rIP saved for BOUND's #BR is the instruction's own.
        var forms = new Action<Iced.Intel.Assembler>[]
        {
            a => a.bound(eax, __qword_ptr[ebx]),
            a => a.bound(eax, __qword_ptr[ebx + 0x100]),
            a => a.bound(ax, __dword_ptr[ebx + esi * 4 + 8]),
            a => a.bound(eax, __qword_ptr[0x3000]),
        };
        foreach (var form in forms)
        {
            using var m = new SvmTestMachine();
            m.Memory.Write(0x3000, 8, 10UL << 32);
            m.Memory.Write(0x3100, 8, 10UL << 32);
            m.Memory.Write(0x3008, 4, 10UL << 16);
            m.GuestProgram(a => { a.mov(ebx, 0x3000); a.xor(esi, esi); a.mov(eax, 20); form(a); a.hlt(); });
            m.Vmcb.InterceptException(ExceptionVector.BR);
            var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.BR);
            Assert.AreEqual(SvmTestMachine.GuestCode + 12, v.Rip, "the BOUND");
            Assert.AreEqual(0xF4UL, m.Memory.Read(v.NRip, 1), $"nRIP {v.NRip:x}: the HLT after the BOUND");
        }
    }

    [TestMethod]
    public void Int1IsNotInterceptedByTheDebugExceptionIntercept()
    {
        // APM vol. 2, table 15-7 (ICEBP): although ICEBP dispatches through IDT vector 1, that event
        // is not interceptable by means of the #DB exception intercept; the guest takes it.
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { a.nop(); a.int1(); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.DB);
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(ExceptionVector.DB, m.GuestStubVector(v.Rip), "the guest's #DB handler runs");
        Assert.AreEqual(SvmTestMachine.GuestCode + 2, m.Memory.Read(v.Read(VmcbLayout.Rsp, 8), 4), "INT1 traps: the return address is past it");
    }

    [TestMethod]
    public void FaultDuringSoftwareInterruptDeliveryFillsExitIntInfo()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.GuestIdt32 + 0x40 * 8, 8, 0);
        m.GuestProgram(a => { a.@int(0x40); a.hlt(); });
        m.Vmcb.InterceptException(ExceptionVector.GP);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.GP);
        m.Memory.Write(SvmTestMachine.GuestIdt32 + 0x40 * 8, 8, SvmTestMachine.Gate(SvmTestMachine.Code32, SvmTestMachine.GuestStubs + 0x100, 0xE, 3));
        Assert.AreEqual(0x40UL * 8 + 2, v.ExitInfo1, "#GP error code: IDT bit and the vector");
        Assert.AreEqual(SvmEventInjection.Valid | (4UL << 8) | 0x40, v.ExitIntInfo, "EXITINTINFO: V, TYPE = software interrupt, vector 40h (15.7.2)");
        Assert.AreEqual(SvmTestMachine.GuestCode, v.Rip, "RIP of the INT instruction");
        Assert.AreEqual(0UL, v.NRip, "a #GP intercept is not an instruction intercept nor raised by INT3, INTO or BOUND: nRIP is reset to zero (15.7.1)");
    }

    [TestMethod]
    public void ExternalInterruptExitsAndStaysPending()
    {
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource();
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { var l = a.CreateLabel(); a.sti(); a.Label(ref l); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Intr);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 100);
        source.Vector = 0x30;
        m.Cpu.NotifyInterrupt();
        m.Cpu.Run(m.Cpu.Cycles + 100);
        Assert.AreEqual(1, m.Exits);
        Assert.AreEqual(SvmExitCode.Intr, m.Vmcb.ExitCode);
        Assert.AreEqual(0, source.Acknowledged, "the interrupt is not acknowledged: the host takes it after STGI (15.21.2)");
        Assert.AreEqual(0UL, m.Vmcb.ExitInfo1);
    }

    [TestMethod]
    public void ExternalInterruptWithoutInterceptIsDeliveredToTheGuest()
    {
        using var m = new SvmTestMachine();
        var source = new TestInterruptSource { Vector = 0x30 };
        m.Cpu.InterruptSource = source;
        m.GuestProgram(a => { a.sti(); a.nop(); a.nop(); a.jmp(SvmTestMachine.GuestCode + 1); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x30, m.GuestStubVector(v.Rip));
    }

    [TestMethod]
    public void NmiExitsAndStaysPendingForTheHost()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Nmi);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 50);
        m.Cpu.RaiseNmi();
        m.Cpu.Run(m.Cpu.Cycles + 50);
        Assert.AreEqual(SvmExitCode.Nmi, m.Vmcb.ExitCode);
        Assert.IsTrue(m.Cpu.NmiPending, "GIF = 0 after #VMEXIT holds the NMI for the host");
    }

    [TestMethod]
    public void InitExitsAndStaysPendingForTheHost()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Init);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 50);
        m.Cpu.RaiseInit();
        m.Cpu.Run(m.Cpu.Cycles + 50);
        Assert.AreEqual(SvmExitCode.Init, m.Vmcb.ExitCode, "#VMEXIT(INIT) = 63h (APM vol. 2, appendix C)");
        Assert.IsFalse(m.Unit.InGuest);
        Assert.IsTrue(m.Cpu.InitPending, "GIF = 0 after #VMEXIT holds the INIT for the host (15.17)");
        Assert.IsTrue(m.Cpu.InProtectedMode, "the host was not reset");
    }

    [TestMethod]
    public void TripleFaultExitsAsShutdown()
    {
        using var m = new SvmTestMachine();
        m.Vmcb.Segment(VmcbLayout.Idtr, 0, 0, 0, SvmTestMachine.GuestIdt32);
        m.GuestProgram(a => { a.ud2(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Shutdown);
        m.RunToExit(SvmExitCode.Shutdown);
    }

    [TestMethod]
    public void TaskSwitchExitReportsSelectorAndSource()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => a.jmp(SvmTestMachine.Tss, 0));
        m.Vmcb.Intercept(SvmIntercept.TaskSwitch);
        var v = m.RunToExit(SvmExitCode.TaskSwitch);
        Assert.AreEqual((ulong)SvmTestMachine.Tss, v.ExitInfo1, "EXITINFO1: the new TSS selector");
        Assert.AreEqual(1UL << 38, v.ExitInfo2, "EXITINFO2 bit 38: the switch comes from a far jump (APM vol. 2, 15.14.1)");
    }

    [TestMethod]
    public void TaskSwitchThroughATaskGateReportsTheErrorCode()
    {
        // APM vol. 2, 15.14.1: EXITINFO2[31:0] holds the error code to push in the new task and
        // EXITINFO2[44] says there is one; bits 36 (IRET) and 38 (far jump) stay clear.
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.GuestIdt32 + ExceptionVector.GP * 8, 8, ((ulong)SvmTestMachine.Tss << 16) | (0x85UL << 40));
        m.GuestProgram(a => { a.mov(eax, 0x1234); a.mov(ds, ax); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.TaskSwitch);
        var v = m.RunToExit(SvmExitCode.TaskSwitch);
        Assert.AreEqual((ulong)SvmTestMachine.Tss, v.ExitInfo1);
        Assert.AreEqual((1UL << 44) | 0x1234, v.ExitInfo2, "#GP(1234h) through the task gate");
    }

    [TestMethod]
    public void PauseFilterCountsPausesBeforeExiting()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.pause(); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Pause);
        m.Vmcb.Write(VmcbLayout.PauseFilterCount, 2, 5);
        m.RunToExit(SvmExitCode.Pause);
        Assert.AreEqual(4UL, m.Cpu.Rcx, "the fifth PAUSE exits, four ran (15.14.4)");
    }

    [TestMethod]
    public void PauseFilterThresholdReloadsTheCountForSpacedPauses()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.Label(ref l); a.pause(); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Pause);
        m.Vmcb.Write(VmcbLayout.PauseFilterCount, 2, 5);
        m.Vmcb.Write(VmcbLayout.PauseFilterThreshold, 2, 1);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 3000);
        Assert.AreEqual(0, m.Exits, $"exit {m.Vmcb.ExitCode:x} ecx={m.Cpu.Rcx} rip={m.Vmcb.Rip:x}: PAUSEs 3 cycles apart exceed the threshold of 1: the count restarts every time");
        Assert.IsTrue(m.Cpu.Rcx > 100);
    }

    [TestMethod]
    public void APauseThatReloadsTheCountDoesNotAlsoDecrementIt()
    {
        // APM vol. 2, 15.14.4: when more cycles than the threshold passed since the last PAUSE, the
        // count is reloaded and execution continues; only a PAUSE within the threshold decrements
        // it. With a count of 1, spaced PAUSEs therefore never exit.
        using var m = new SvmTestMachine();
        m.GuestProgram(a => { var l = a.CreateLabel(); a.nop(); a.nop(); a.nop(); a.Label(ref l); a.pause(); a.inc(ecx); a.jmp(l); });
        m.Vmcb.Intercept(SvmIntercept.Pause);
        m.Vmcb.Write(VmcbLayout.PauseFilterCount, 2, 1);
        m.Vmcb.Write(VmcbLayout.PauseFilterThreshold, 2, 1);
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 3000);
        Assert.AreEqual(0, m.Exits, $"ecx={m.Cpu.Rcx}: every PAUSE came more than 1 cycle after the last and reloaded the count");
    }

    [TestMethod]
    public void RealModeGuestIoReportsSixteenBitAddressSize()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(SvmTestMachine.IopmPa + (0x61 >> 3), 1, 1UL << (0x61 & 7));
        var v = m.Vmcb;
        v.Write(VmcbLayout.Cr0, 8, Cr0.ET | Cr0.NE);
        v.Segment(VmcbLayout.Cs, 0x2000, 0x9B, 0xFFFF, 0x20000);
        foreach (var s in new[] { VmcbLayout.Ds, VmcbLayout.Es, VmcbLayout.Ss }) v.Segment(s, 0, 0x93, 0xFFFF, 0);
        v.Write(VmcbLayout.Rip, 8, 0);
        v.Write(VmcbLayout.Rsp, 8, 0x7000);
        v.Intercept(SvmIntercept.IoioProt);
        m.GuestProgram(a => { a.@in(al, 0x61); a.hlt(); }, 16);
        v = m.RunToExit(SvmExitCode.Ioio);
        Assert.AreEqual((0x61UL << 16) | 1 | (1UL << 4) | (1UL << 7), v.ExitInfo1, "IN AL, 61h in real mode: TYPE = IN, SZ8, A16");
        Assert.AreEqual(2UL, v.ExitInfo2, "the next IP within CS");
    }
}
