using Sim.Cpu;
using Sim.Cpu.Registers;

namespace Sim.Svm.Tests;

/// <summary>
/// VMRUN's consistency checks (AMD APM vol. 2, 15.5.1 "Canonicalization and Consistency Checks"
/// and 15.20 for EVENTINJ): one valid baseline VMCB, then one mutation per check, each of which
/// must end in #VMEXIT(VMEXIT_INVALID) with the host going on after its VMRUN.
/// </summary>
[TestClass]
public sealed class ConsistencyCheckTests
{
    private sealed record Mutation(VmcbConsistencyCheck Check, Action<Vmcb> Apply);

    private static void LongMode(Vmcb v)
    {
        v.Write(VmcbLayout.Efer, 8, Efer.SVME | Efer.LME);
        v.Write(VmcbLayout.Cr0, 8, Cr0.PE | Cr0.PG | Cr0.ET);
        v.Write(VmcbLayout.Cr4, 8, Cr4.PAE);
        v.Write(VmcbLayout.Cr3, 8, SvmTestMachine.Pml4);
    }

    private static readonly Mutation[] Mutations =
    [
        new(VmcbConsistencyCheck.EferSvmeClear, v => v.Write(VmcbLayout.Efer, 8, 0)),
        new(VmcbConsistencyCheck.Cr0CdClearNwSet, v => v.Or(VmcbLayout.Cr0, 8, Cr0.NW)),
        new(VmcbConsistencyCheck.Cr0HighBitsSet, v => v.Or(VmcbLayout.Cr0, 8, 1UL << 32)),
        new(VmcbConsistencyCheck.Cr3MbzBitSet, v => v.Write(VmcbLayout.Cr3, 8, 1UL << 32)),
        new(VmcbConsistencyCheck.Cr3MbzBitSet, v => { LongMode(v); v.Write(VmcbLayout.Cr3, 8, 1UL << Processor.MaxPhysicalAddressBits); }),
        new(VmcbConsistencyCheck.Cr4MbzBitSet, v => v.Write(VmcbLayout.Cr4, 8, 1UL << 12)),
        new(VmcbConsistencyCheck.Cr4MbzBitSet, v => v.Write(VmcbLayout.Cr4, 8, Cr4.VMXE)),
        new(VmcbConsistencyCheck.Dr6HighBitsSet, v => v.Or(VmcbLayout.Dr6, 8, 1UL << 40)),
        new(VmcbConsistencyCheck.Dr7HighBitsSet, v => v.Or(VmcbLayout.Dr7, 8, 1UL << 63)),
        new(VmcbConsistencyCheck.EferMbzBitSet, v => v.Or(VmcbLayout.Efer, 8, 1UL << 20)),
        new(VmcbConsistencyCheck.LongModeWithoutCr4Pae, v => { LongMode(v); v.Write(VmcbLayout.Cr4, 8, 0); }),
        new(VmcbConsistencyCheck.LongModeWithoutCr0Pe, v => { LongMode(v); v.Write(VmcbLayout.Cr0, 8, Cr0.PG | Cr0.ET); }),
        new(VmcbConsistencyCheck.LongModeWithCsLAndD, v => { LongMode(v); v.Segment(VmcbLayout.Cs, SvmTestMachine.Code64, 0xE9B, 0xFFFFFFFF, 0); }),
        new(VmcbConsistencyCheck.VmrunInterceptClear, v => v.ClearIntercept(SvmIntercept.Vmrun)),
        new(VmcbConsistencyCheck.AsidZero, v => v.Write(VmcbLayout.GuestAsid, 4, 0)),
        new(VmcbConsistencyCheck.MsrpmBeyondMaxPhysicalAddress, v => { v.Intercept(SvmIntercept.MsrProt); v.Write(VmcbLayout.MsrpmBasePa, 8, (1UL << Processor.MaxPhysicalAddressBits) - 0x1000); }),
        new(VmcbConsistencyCheck.IopmBeyondMaxPhysicalAddress, v => { v.Intercept(SvmIntercept.IoioProt); v.Write(VmcbLayout.IopmBasePa, 8, (1UL << Processor.MaxPhysicalAddressBits) - 0x2000); }),
        // 15.5.1: a map that would extend past the top of the 64-bit address space extends beyond the maximum physical address too.
        new(VmcbConsistencyCheck.MsrpmBeyondMaxPhysicalAddress, v => { v.Intercept(SvmIntercept.MsrProt); v.Write(VmcbLayout.MsrpmBasePa, 8, 0xFFFFFFFFFFFFF000UL); }),
        new(VmcbConsistencyCheck.IopmBeyondMaxPhysicalAddress, v => { v.Intercept(SvmIntercept.IoioProt); v.Write(VmcbLayout.IopmBasePa, 8, 0xFFFFFFFFFFFFE000UL); }),
        // 15.5.1 checks the tables' extent whether or not the MSR and IOIO intercepts use them.
        new(VmcbConsistencyCheck.MsrpmBeyondMaxPhysicalAddress, v => v.Write(VmcbLayout.MsrpmBasePa, 8, 0xFFFFFFFFFFFFF000UL)),
        new(VmcbConsistencyCheck.IopmBeyondMaxPhysicalAddress, v => v.Write(VmcbLayout.IopmBasePa, 8, (1UL << Processor.MaxPhysicalAddressBits) - 0x2000)),
        new(VmcbConsistencyCheck.IllegalEventInjection, v => v.Write(VmcbLayout.EventInj, 8, SvmEventInjection.Valid | (1UL << 8) | 0x20)),
        new(VmcbConsistencyCheck.IllegalEventInjection, v => v.Write(VmcbLayout.EventInj, 8, SvmEventInjection.Valid | (5UL << 8) | 0x20)),
        new(VmcbConsistencyCheck.IllegalEventInjection, v => v.Write(VmcbLayout.EventInj, 8, SvmEventInjection.Encode(ExceptionVector.NMI, SvmEventInjection.TypeException, 0, false))),
        new(VmcbConsistencyCheck.IllegalEventInjection, v => v.Write(VmcbLayout.EventInj, 8, SvmEventInjection.Encode(32, SvmEventInjection.TypeException, 0, false))),
        // 15.20: an event impossible in the guest's mode, such as #BR in 64-bit mode, fails VMRUN with VMEXIT_INVALID.
        new(VmcbConsistencyCheck.IllegalEventInjection, v => { LongMode(v); v.Segment(VmcbLayout.Cs, SvmTestMachine.Code64, 0xA9B, 0xFFFFFFFF, 0); v.Write(VmcbLayout.EventInj, 8, SvmEventInjection.Encode(ExceptionVector.BR, SvmEventInjection.TypeException, 0, false)); }),
        // 15.25.4: with NP_ENABLE, an MBZ bit of nCR3 set is illegal (the 64-bit host: bits at and above MAXPHYADDR).
        new(VmcbConsistencyCheck.NCr3MbzBitSet, v => { v.Write(VmcbLayout.NpEnable, 8, 1); v.Write(VmcbLayout.NCr3, 8, 1UL << Processor.MaxPhysicalAddressBits); }),
        new(VmcbConsistencyCheck.IllegalGPat, v => { v.Write(VmcbLayout.NpEnable, 8, 1); v.Write(VmcbLayout.NCr3, 8, 0x200000); v.Write(VmcbLayout.GPat, 8, 0x0007040600070402UL); }),
    ];

    [TestMethod]
    public void BaselineVmcbPassesEveryCheck()
    {
        using var m = new SvmTestMachine();
        m.GuestProgram(a => a.hlt());
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.RunToExit(SvmExitCode.Hlt);

        using var l = new SvmTestMachine();
        l.LongModeGuest();
        l.GuestProgram(a => a.hlt(), 64);
        l.Vmcb.Intercept(SvmIntercept.Hlt);
        l.Vmcb.Intercept(SvmIntercept.MsrProt);
        l.Vmcb.Intercept(SvmIntercept.IoioProt);
        l.RunToExit(SvmExitCode.Hlt);
    }

    [TestMethod]
    public void EachViolatedCheckEndsInVmexitInvalid()
    {
        foreach (var mutation in Mutations)
        {
            using var m = new SvmTestMachine();
            m.GuestProgram(a => a.hlt());
            m.Vmcb.Intercept(SvmIntercept.Hlt);
            mutation.Apply(m.Vmcb);
            m.Cpu.Rax = 0x1234;
            var result = m.Unit.Vmrun(SvmTestMachine.VmcbPa);
            Assert.AreEqual(SvmResult.VmexitInvalid, result, mutation.Check.ToString());
            Assert.AreEqual(mutation.Check, m.Unit.LastConsistencyFailure, "the check that failed");
            Assert.AreEqual(SvmExitCode.Invalid, m.Vmcb.ExitCode, $"{mutation.Check}: EXITCODE = VMEXIT_INVALID (-1)");
            Assert.IsFalse(m.Unit.InGuest, mutation.Check.ToString());
            Assert.AreEqual(1, m.Exits, "VMEXIT_INVALID is a #VMEXIT");
            Assert.AreEqual(SvmTestMachine.HostCode, m.Cpu.Rip, "the host goes on after VMRUN");
            Assert.AreEqual(0x1234UL, m.Cpu.Rax, "host RAX reloaded");
            Assert.IsTrue(m.Cpu.InLongMode, "host mode reloaded");
            Assert.IsFalse(m.Cpu.GlobalInterruptFlag);
        }
    }

    [TestMethod]
    public void PaeGuestPdpeWithAReservedBitEndsInVmexitInvalid()
    {
        // APM vol. 2, 15.5.1: for a guest in PAE paging mode without nested paging VMRUN reads the four
        // PDPEs at CR3; a reserved bit set in one (here bit 1 of a present PDPE) causes #VMEXIT(VMEXIT_INVALID).
        const ulong pdpt = 0x60000;
        foreach (var reserved in new[] { 0UL, 1UL << 1, 1UL << 63 })
        {
            using var m = new SvmTestMachine();
            m.GuestProgram(a => a.hlt());
            m.Vmcb.Intercept(SvmIntercept.Hlt);
            m.Vmcb.Write(VmcbLayout.Cr0, 8, Cr0.PE | Cr0.PG | Cr0.ET);
            m.Vmcb.Write(VmcbLayout.Cr4, 8, Cr4.PAE);
            m.Vmcb.Write(VmcbLayout.Cr3, 8, pdpt);
            m.Memory.Write(pdpt, 8, 0x61000 | 1 | reserved);
            m.Memory.Write(0x61000, 8, 0x87);
            var result = m.Unit.Vmrun(SvmTestMachine.VmcbPa);
            if (reserved == 0)
            {
                Assert.AreEqual(SvmResult.Success, result, "legal PDPEs: the guest runs");
                continue;
            }
            Assert.AreEqual(SvmResult.VmexitInvalid, result, $"PDPE bit {System.Numerics.BitOperations.Log2(reserved)}");
            Assert.AreEqual(VmcbConsistencyCheck.PdpeReservedBitSet, m.Unit.LastConsistencyFailure);
            Assert.AreEqual(SvmExitCode.Invalid, m.Vmcb.ExitCode);
        }
    }

    [TestMethod]
    public void NestedPagingNeedsPagingInTheHost()
    {
        // APM vol. 2, 15.25.3: VMRUN with host CR0.PG clear and NP_ENABLE set terminates with #VMEXIT(VMEXIT_INVALID).
        using var m = new SvmTestMachine();
        m.GuestProgram(a => a.hlt());
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        m.Vmcb.Write(VmcbLayout.NpEnable, 8, 1);
        m.Vmcb.Write(VmcbLayout.NCr3, 8, 0x200000);
        m.Cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, Efer.SVME);
        m.Cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = SvmTestMachine.Code32, Limit = 0xFFFFFFFF, Attributes = 0xC09B });
        Assert.AreEqual(SvmResult.VmexitInvalid, m.Unit.Vmrun(SvmTestMachine.VmcbPa));
        Assert.AreEqual(VmcbConsistencyCheck.NestedPagingWithoutHostPaging, m.Unit.LastConsistencyFailure);
        Assert.AreEqual(SvmExitCode.Invalid, m.Vmcb.ExitCode);
    }

    [TestMethod]
    public void GuestCodeVmrunWithIllegalStateContinuesAfterTheInstruction()
    {
        using var m = new SvmTestMachine();
        m.Vmcb.Write(VmcbLayout.GuestAsid, 4, 0);
        m.Cpu.HostOwned = false;
        m.Code(64, SvmTestMachine.HostCode, a => { a.mov(Iced.Intel.AssemblerRegisters.rax, SvmTestMachine.VmcbPa); a.vmrun(); a.hlt(); });
        Assert.AreEqual(StopReason.Halted, m.Cpu.Run(m.Cpu.Cycles + 10_000));
        Assert.AreEqual(SvmTestMachine.HostCode + 10 + 3 + 1, m.Cpu.Rip, "VMRUN (3 bytes) completed with VMEXIT_INVALID, then the HLT");
        Assert.AreEqual(SvmExitCode.Invalid, m.Vmcb.ExitCode);
        Assert.AreEqual(VmcbConsistencyCheck.AsidZero, m.Unit.LastConsistencyFailure);
    }
}
