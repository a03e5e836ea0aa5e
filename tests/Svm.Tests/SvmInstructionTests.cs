using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Cpu.Timing;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// The SVM instructions' own behaviour and their #UD/#GP conditions (AMD APM vol. 3, VMRUN,
/// VMLOAD, VMSAVE, STGI, CLGI, INVLPGA, VMMCALL, SKINIT), through host code and through the C# API.
/// </summary>
[TestClass]
public sealed class SvmInstructionTests
{
    /// <summary>Runs host code at <see cref="SvmTestMachine.HostCode"/> to a HLT and returns the vector of the host stub it stopped in, or -1.</summary>
    private static int RunHost(SvmTestMachine m, Action<Iced.Intel.Assembler> code)
    {
        m.Code(64, SvmTestMachine.HostCode, code);
        m.Cpu.Run(m.Cpu.Cycles + 100_000);
        var rip = m.Cpu.Rip - 1;
        return rip >= SvmTestMachine.HostStubs && rip < SvmTestMachine.HostStubs + 1024 ? (int)((rip - SvmTestMachine.HostStubs) / 4) : -1;
    }

    [TestMethod]
    public void SvmInstructionsRaiseUdWhileEferSvmeIsClear()
    {
        foreach (var (name, instruction) in new (string, Action<Iced.Intel.Assembler>)[]
                 {
                     ("VMRUN", a => a.vmrun()), ("VMLOAD", a => a.vmload()), ("VMSAVE", a => a.vmsave()),
                     ("STGI", a => a.stgi()), ("CLGI", a => a.clgi()), ("INVLPGA", a => a.invlpga()),
                 })
        {
            using var m = new SvmTestMachine();
            Assert.IsTrue(m.Cpu.TryWriteMsr(Msr.Efer, m.Cpu.Efer & ~Efer.SVME));
            Assert.AreEqual(ExceptionVector.UD, RunHost(m, a => { a.mov(rax, SvmTestMachine.VmcbPa); instruction(a); a.hlt(); }), name);
        }
        using var api = new SvmTestMachine();
        Assert.IsTrue(api.Cpu.TryWriteMsr(Msr.Efer, api.Cpu.Efer & ~Efer.SVME));
        Assert.AreEqual(SvmResult.UndefinedOpcode, api.Unit.Vmrun(SvmTestMachine.VmcbPa));
        Assert.AreEqual(SvmResult.UndefinedOpcode, api.Unit.Vmload(SvmTestMachine.VmcbPa));
        Assert.AreEqual(SvmResult.UndefinedOpcode, api.Unit.Stgi());
    }

    [TestMethod]
    public void VmloadAndVmsaveChargeTheirCost()
    {
        using var m = new SvmTestMachine();
        m.Unit.Costs = CostModel.Default with { Vmload = 90, Vmsave = 60 };
        var start = m.Cpu.Cycles;
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmsave(SvmTestMachine.SecondVmcbPa));
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmload(SvmTestMachine.SecondVmcbPa));
        Assert.AreEqual(start + 150, m.Cpu.Cycles);
        Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Vmload(SvmTestMachine.VmcbPa + 8), "a faulting VMLOAD does no work");
        Assert.AreEqual(start + 150, m.Cpu.Cycles);
    }

    [TestMethod]
    public void VmrunRaisesGpForAnUnalignedOrTooHighVmcbAddress()
    {
        foreach (var address in new[] { SvmTestMachine.VmcbPa + 8, 1UL << Processor.MaxPhysicalAddressBits })
        {
            using var m = new SvmTestMachine();
            Assert.AreEqual(ExceptionVector.GP, RunHost(m, a => { a.mov(rax, address); a.vmrun(); a.hlt(); }), $"rAX = {address:x}");
            Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Vmrun(address));
            Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Vmsave(address));
            Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Vmload(address));
        }
    }

    [TestMethod]
    public void SvmInstructionsRaiseGpAboveCpl0()
    {
        using var m = new SvmTestMachine();
        m.Code(64, 0x28000, a => { a.mov(rax, SvmTestMachine.VmcbPa); a.vmrun(); a.hlt(); });
        m.Memory.Write(SvmTestMachine.GdtAddress + 0x28, 8, 0x00AFFB000000FFFFUL);
        m.Memory.Write(SvmTestMachine.GdtAddress + 0x30, 8, 0x00CFF3000000FFFFUL);
        m.Cpu.Gdtr = new DescriptorTableRegister { Base = SvmTestMachine.GdtAddress, Limit = 0x37 };
        m.Memory.Write(0x6000 + 4, 8, SvmTestMachine.HostStack);
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0x2B, Limit = 0xFFFFFFFF, Attributes = 0xA0FB });
        m.Cpu.SetSegment(SegmentIndex.SS, new SegmentRegister { Selector = 0x33, Limit = 0xFFFFFFFF, Attributes = 0xC0F3 });
        m.Cpu.Rip = 0x28000;
        Assert.AreEqual(3, m.Cpu.Cpl);
        Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Clgi(), "CPL 3");
        Assert.AreEqual(SvmResult.GeneralProtection, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        m.Cpu.Run(m.Cpu.Cycles + 10_000);
        Assert.AreEqual((ulong)ExceptionVector.GP, (m.Cpu.Rip - 1 - SvmTestMachine.HostStubs) / 4, "VMRUN at CPL 3 raises #GP(0)");
    }

    [TestMethod]
    public void SvmInstructionsRaiseUdInRealMode()
    {
        using var m = new SvmTestMachine();
        m.Cpu.LoadControlState(Cr0.ET, 0, 0, Efer.SVME);
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = 0, Limit = 0xFFFF, Attributes = 0x9B });
        Assert.AreEqual(SvmResult.UndefinedOpcode, m.Unit.Vmrun(SvmTestMachine.VmcbPa), "VMRUN is recognized only in protected mode");
        Assert.AreEqual(SvmResult.UndefinedOpcode, m.Unit.Stgi());
    }

    [TestMethod]
    public void VmmcallAndSkinitRaiseUdOnTheHost()
    {
        using var m = new SvmTestMachine();
        Assert.AreEqual(ExceptionVector.UD, RunHost(m, a => { a.vmmcall(); a.hlt(); }), "VMMCALL outside a guest");
        using var s = new SvmTestMachine();
        Assert.AreEqual(ExceptionVector.UD, RunHost(s, a => { a.skinit(); a.hlt(); }), "SKINIT is not offered (CPUID 8000_0001h ECX bit 12 clear)");
        Assert.AreEqual(SvmResult.UndefinedOpcode, s.Unit.Vmmcall());
        Assert.AreEqual(SvmResult.UndefinedOpcode, s.Unit.Skinit());
    }

    [TestMethod]
    public void VmxInstructionsRaiseUdOnAnAmdProcessor()
    {
        using var m = new SvmTestMachine();
        Assert.AreEqual(ExceptionVector.UD, RunHost(m, a => { a.vmcall(); a.hlt(); }));
    }

    [TestMethod]
    public void VmsaveThenVmloadRoundTripsTheProcessorState()
    {
        using var m = new SvmTestMachine();
        var cpu = m.Cpu;
        cpu.SetSegment(SegmentIndex.FS, new SegmentRegister { Selector = 0x10, Base = 0x1111_0000, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.SetSegment(SegmentIndex.GS, new SegmentRegister { Selector = 0x10, Base = 0x2222_0000, Limit = 0xFFFFFFFF, Attributes = 0xC093 });
        cpu.Ldtr = new SegmentRegister { Selector = 0x38, Base = 0x7000, Limit = 0xFF, Attributes = 0x82 };
        cpu.KernelGsBase = 0x3333;
        cpu.Star = 0x0023001000000000;
        cpu.Lstar = 0xFFFF800000001000;
        cpu.Cstar = 0xFFFF800000002000;
        cpu.Fmask = 0x700;
        cpu.SysenterCs = 8;
        cpu.SysenterEsp = 0x4444;
        cpu.SysenterEip = 0x5555;
        Assert.AreEqual(SvmTestMachine.HostCode + 14, RunHostRip(m, a => { a.mov(rax, SvmTestMachine.SecondVmcbPa); a.vmsave(); a.hlt(); }));
        var v = new Vmcb(m.Memory, SvmTestMachine.SecondVmcbPa);
        Assert.AreEqual(0x1111_0000UL, v.Read(VmcbLayout.Fs + 8, 8), "FS.base at 448h");
        Assert.AreEqual(0xC93UL, v.Read(VmcbLayout.Fs + 2, 2), "FS.attrib in the VMCB format (G, D/B in bits 11:8)");
        Assert.AreEqual(0x38UL, v.Read(VmcbLayout.Ldtr, 2));
        Assert.AreEqual(0xFFFF800000001000UL, v.Read(VmcbLayout.Lstar, 8));
        Assert.AreEqual(0x5555UL, v.Read(VmcbLayout.SysenterEip, 8));

        cpu.SetSegment(SegmentIndex.FS, default);
        cpu.KernelGsBase = cpu.Star = cpu.Lstar = cpu.Cstar = cpu.Fmask = cpu.SysenterCs = cpu.SysenterEsp = cpu.SysenterEip = 0;
        cpu.Ldtr = default;
        Assert.AreEqual(SvmResult.Success, m.Unit.Vmload(SvmTestMachine.SecondVmcbPa));
        Assert.AreEqual(0x1111_0000UL, cpu.GetSegment(SegmentIndex.FS).Base);
        Assert.AreEqual(0xC093U, cpu.GetSegment(SegmentIndex.FS).Attributes);
        Assert.AreEqual(0x2222_0000UL, cpu.GetSegment(SegmentIndex.GS).Base);
        Assert.AreEqual(0x7000UL, cpu.Ldtr.Base);
        Assert.AreEqual(0x3333UL, cpu.KernelGsBase);
        Assert.AreEqual(0x0023001000000000UL, cpu.Star);
        Assert.AreEqual(0xFFFF800000002000UL, cpu.Cstar);
        Assert.AreEqual(0x700UL, cpu.Fmask);
        Assert.AreEqual(8UL, cpu.SysenterCs);
        Assert.AreEqual(0x4444UL, cpu.SysenterEsp);
        Assert.AreEqual(0x5555UL, cpu.SysenterEip);
        Assert.AreEqual(SvmTestMachine.Tss, cpu.Tr.Selector, "TR from the VMSAVEd state");
    }

    private static ulong RunHostRip(SvmTestMachine m, Action<Iced.Intel.Assembler> code)
    {
        m.Code(64, SvmTestMachine.HostCode, code);
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        return m.Cpu.Rip;
    }

    [TestMethod]
    public void InvlpgaDropsAPageTranslation()
    {
        using var m = new SvmTestMachine();
        m.Memory.Write(0x80_0000, 8, 0x1111);
        m.Code(64, SvmTestMachine.HostCode, a =>
        {
            a.mov(rbx, 0x80_0000);
            a.mov(rsi, __qword_ptr[rbx]);       // caches the translation of the 2-MiB page
            a.mov(rdx, SvmTestMachine.Pml4 + 0x2000 + 4 * 8);
            a.mov(__qword_ptr[rdx], 0);         // unmaps it without INVLPG
            a.mov(rdi, __qword_ptr[rbx]);       // still served by the TLB
            a.mov(rax, rbx);
            a.xor(ecx, ecx);
            a.invlpga();
            a.mov(rbp, __qword_ptr[rbx]);       // #PF now
            a.hlt();
        });
        m.Cpu.Run(m.Cpu.Cycles + 10_000);
        Assert.AreEqual(0x1111UL, m.Cpu.Rdi, "the stale translation was still cached before INVLPGA");
        Assert.AreEqual((ulong)ExceptionVector.PF, (m.Cpu.Rip - 1 - SvmTestMachine.HostStubs) / 4, "after INVLPGA the access walks the tables and faults");
        Assert.AreEqual(0x80_0000UL, m.Cpu.Cr2);
    }
}
