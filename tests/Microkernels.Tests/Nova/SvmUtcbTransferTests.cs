using System.Buffers.Binary;
using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Microkernels.Nova;
using Sim.Svm;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Microkernels.Tests.Nova;

/// <summary>
/// load_svm and save_svm (alex-ab/NOVA r10 src/utcb.cpp) over a VMCB in memory: one MTD bit at a time compared byte for
/// byte with the UTCB NOVA writes, the write-back of each group with the VMCB clean bits the APM requires cleared, the
/// interrupt-window request, the relative TSC offset, NOVA's intercepts, and real exits of a small guest.
/// </summary>
[TestClass]
public sealed class SvmUtcbTransferTests
{
    private const ulong U = NovaSvmMachine.Utcb;
    private const ulong HostTsc = 0x0AAA_BBBB_CCCC_DDDD;
    private static readonly int[] VmcbSegments = [0x400, 0x410, 0x420, 0x430, 0x440, 0x450, 0x460, 0x470, 0x480, 0x490];

    private static NovaSvmMachine Machine()
    {
        var m = new NovaSvmMachine();
        var r = m.Regs;
        r.Rcx = 0xC0; r.Rdx = 0xD0; r.Rbx = 0xB0; r.Rbp = 0xB9; r.Rsi = 0x51; r.Rdi = 0xD1;
        r.R8 = 8; r.R9 = 9; r.R10 = 10; r.R11 = 11; r.R12 = 12; r.R13 = 13; r.R14 = 14; r.R15 = 15;
        r.TscOffset = 0x4000;
        r.TscAux = 0x66;
        r.Xcr0 = 3;
        r.DstPortal = 0x72;
        m.SetV(0x5F8, 0xA0);
        m.SetV(0x5D8, 0x7000);
        m.SetV(0x578, 0x1234);
        m.SetV(0x570, 0x202);
        for (var i = 0; i < 10; i++)
        {
            m.SetV(VmcbSegments[i], 0x100 + (ulong)i, 2);
            m.SetV(VmcbSegments[i] + 2, 0xC93 + (ulong)i, 2);
            m.SetV(VmcbSegments[i] + 4, 0xF_0000 + (ulong)i, 4);
            m.SetV(VmcbSegments[i] + 8, 0x1234_0000_0000 | (ulong)i << 12);
        }
        m.SetV(0x558, 0x8000_0011);
        m.SetV(0x640, 0xCC22);
        m.SetV(0x550, 0x12_3000);
        m.SetV(0x548, 0x20);
        m.SetV(0x560, 0x401);
        m.SetV(0x628, 0x18); m.SetV(0x630, 0xE5E5); m.SetV(0x638, 0xE1E1);
        m.SetV(0x078, 0x1111); m.SetV(0x080, 0x2222);
        m.SetV(0x088, 0x0000_000E_8000_0B0E);
        m.SetV(0x0A8, 0x0000_0002_8000_0B0D);
        m.SetV(0x068, 1);
        m.SetV(0x4D0, 0x1D01);
        m.SetV(0x600, 0x5A00); m.SetV(0x608, 0x5A01); m.SetV(0x610, 0x5A02); m.SetV(0x618, 0x5A03); m.SetV(0x620, 0x5A04);
        return m;
    }

    private static byte[] Fill() => Enumerable.Repeat(NovaSvmMachine.Fill, 4096).ToArray();

    private static void U64(byte[] p, int offset, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(p.AsSpan(offset), v);

    private static void U32(byte[] p, int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(offset), v);

    /// <summary>The VMCB's segment <paramref name="i"/> (ES, CS, SS, DS, FS, GS, GDTR, LDTR, IDTR, TR) as the test wrote it: the UTCB's format.</summary>
    private static void Segment(byte[] p, int offset, int i)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(offset), (ushort)(0x100 + i));
        BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(offset + 2), (ushort)(0xC93 + i));
        U32(p, offset + 4, 0xF_0000 + (uint)i);
        U64(p, offset + 8, 0x1234_0000_0000 | (ulong)i << 12);
    }

    [TestMethod]
    [DataRow(0)][DataRow(1)][DataRow(2)][DataRow(3)][DataRow(4)][DataRow(5)][DataRow(6)][DataRow(7)]
    [DataRow(8)][DataRow(9)][DataRow(10)][DataRow(11)][DataRow(12)][DataRow(13)][DataRow(14)][DataRow(15)]
    [DataRow(16)][DataRow(17)][DataRow(18)][DataRow(19)][DataRow(20)][DataRow(21)][DataRow(22)][DataRow(23)]
    [DataRow(24)][DataRow(25)][DataRow(26)][DataRow(31)]
    public void OneBitWritesExactlyItsFields(int bit)
    {
        using var m = Machine();
        var e = Fill();
        switch (bit)
        {
            case 0: U64(e, 0x50, 0xA0); U64(e, 0x58, 0xC0); U64(e, 0x60, 0xD0); U64(e, 0x68, 0xB0); break;
            case 1: U64(e, 0x78, 0xB9); U64(e, 0x80, 0x51); U64(e, 0x88, 0xD1); break;
            case 2: U64(e, 0x70, 0x7000); break;
            case 3: U64(e, 0x30, 0x1234); break;
            case 4: U64(e, 0x38, 0x202); break;
            case 5: Segment(e, 0x1C8, 3); Segment(e, 0x198, 0); break;
            case 6: Segment(e, 0x1D8, 4); Segment(e, 0x1E8, 5); break;
            case 7: Segment(e, 0x1A8, 1); Segment(e, 0x1B8, 2); break;
            case 8: Segment(e, 0x208, 9); break;
            case 9: Segment(e, 0x1F8, 7); break;
            case 10: Segment(e, 0x218, 6); break;
            case 11: Segment(e, 0x228, 8); break;
            case 12: U64(e, 0xE8, 0x8000_0011); U64(e, 0xF0, 0xCC22); U64(e, 0xF8, 0x12_3000); U64(e, 0x100, 0x20); break;
            case 13: U64(e, 0x178, 0x401); break;
            case 14: U64(e, 0x180, 0x18); U64(e, 0x188, 0xE5E5); U64(e, 0x190, 0xE1E1); break;
            case 15: U64(e, 0xD0, 0x1111); U64(e, 0xD8, 0x2222); break;
            case 17: U64(e, 0x48, 0x0000_000E_8000_0B0E); break;
            case 18: U32(e, 0x40, 1); U32(e, 0x44, 0); break;
            case 19: U64(e, 0x238, HostTsc); U64(e, 0x240, 0x4000); break;
            case 20: U64(e, 0x140, 0x1D01); break;
            case 22: for (var i = 0; i < 8; i++) U64(e, 0x90 + 8 * i, 8 + (ulong)i); break;
            case 23: for (var i = 0; i < 5; i++) U64(e, 0x148 + 8 * i, 0x5A00 + (ulong)i); break;
            case 25: U64(e, 0x248, 0x66); break;
            case 26: U64(e, 0x108, 3); U64(e, 0x110, 0); break;
            case 31: m.Regs.FpuImage.CopyTo(e, 0x258); break;
        }
        U64(e, 0x00, 508);
        U64(e, 0x20, 1u << bit);
        U64(e, 0x250, 0x72);
        SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, (Mtd)(1u << bit), HostTsc);
        var actual = m.UtcbBytes();
        for (var i = 0; i < 4096; i++) Assert.AreEqual(e[i], actual[i], $"UTCB byte {i:x3}");
    }

    [TestMethod]
    public void InjectionComesFromEventInjOnInvalidStateAndRecall()
    {
        foreach (var portal in new uint[] { 0xFD, 0xFF })
        {
            using var m = Machine();
            m.Regs.DstPortal = portal;
            SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, Mtd.Inj, HostTsc);
            Assert.AreEqual(0x0000_0002_8000_0B0DUL, m.Memory.Read(U + 0x48, 8));
        }
    }

    [TestMethod]
    public void NestedPageFaultQualificationComesFromTheFrame()
    {
        using var m = Machine();
        m.SetV(0x070, 0x400);
        Assert.AreEqual(0xFCu, SvmStateTransfer.ExitPortal(m.Memory, NovaSvmMachine.Vmcb, m.Regs));
        Assert.AreEqual(0x1111UL, m.Regs.NstError);
        Assert.AreEqual(0x2222UL, m.Regs.NstFault);
        m.SetV(0x070, ulong.MaxValue);
        Assert.AreEqual(0xFDu, SvmStateTransfer.ExitPortal(m.Memory, NovaSvmMachine.Vmcb, m.Regs));
        m.SetV(0x070, 0x78);
        Assert.AreEqual(0x78u, SvmStateTransfer.ExitPortal(m.Memory, NovaSvmMachine.Vmcb, m.Regs));
    }

    [TestMethod]
    public void CreationSetsNovasInterceptsAndNestedPaging()
    {
        using var m = new NovaSvmMachine();
        Assert.AreEqual((ulong)NovaSvm.ForceCtrl0, m.V(0x00C, 4), "INTR NMI INIT INVD HLT IOIO MSR SHUTDOWN; no INVLPG with nested paging");
        Assert.AreEqual((ulong)NovaSvm.ForceCtrl1, m.V(0x010, 4), "VMLOAD VMSAVE CLGI SKINIT; VMRUN is left to the VMM");
        Assert.AreEqual(0UL, m.V(0x000, 4), "no CR intercepts");
        Assert.AreEqual(1UL << 17, m.V(0x008, 4), "#AC");
        Assert.AreEqual(1UL, m.V(0x090), "nested paging");
        Assert.AreEqual(NovaSvmMachine.NestedPml4, m.V(0x0B0));
        Assert.AreEqual(1UL, m.V(0x058, 4), "ASID");
        Assert.AreEqual(1UL << 24, m.V(0x060), "V_INTR_MASKING");
        Assert.AreEqual(Efer.SVME, m.V(0x4D0));
        Assert.AreEqual(0x0007040600070406UL, m.V(0x668));
        Assert.AreEqual(NovaSvmMachine.Iopm, m.V(0x040));
        Assert.AreEqual(NovaSvmMachine.Msrpm, m.V(0x048));
        Assert.AreEqual(0UL, m.V(0x0C0, 4), "clean bits 0");
        // NOVA's disable_msr_exit computes byte index 1 for all three MSRs (see NovaVmcb): FS_BASE stays intercepted.
        Assert.AreEqual(0xC0UL, m.Memory.Read(NovaSvmMachine.Msrpm + 0x800 + 1, 1));
        Assert.AreEqual(0xFFUL, m.Memory.Read(NovaSvmMachine.Msrpm + 0x800 + 0x40, 1));
    }

    private static void Reply(NovaSvmMachine m, Mtd mtd)
    {
        m.Memory.Write(U + 0x20, 8, (uint)mtd);
        m.SetV(0x0C0, 0xFFF, 4);
    }

    [TestMethod]
    public void SaveWritesEachGroupAndClearsItsCleanBits()
    {
        using var m = new NovaSvmMachine();
        void Put(int at, ulong v, int size = 8) => m.Memory.Write(U + (ulong)at, size, v);
        void Check(Mtd mtd, VmcbCleanBits cleared)
        {
            Reply(m, mtd);
            SvmStateTransfer.Save(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U);
            Assert.AreEqual((ulong)(0xFFFu & ~(uint)cleared), m.V(0x0C0, 4), $"clean bits after {mtd}");
        }
        Put(0x50, 0xAA); Put(0x58, 0xCC);
        Check(Mtd.GprAcdb, VmcbCleanBits.None);
        Assert.AreEqual(0xAAUL, m.V(0x5F8), "RAX lives in the VMCB");
        Assert.AreEqual(0xCCUL, m.Regs.Rcx);
        Put(0x70, 0x7770); Put(0x30, 0x3330); Put(0x38, 0x246);
        Check(Mtd.Rsp | Mtd.RipLen | Mtd.Rflags, VmcbCleanBits.None);
        Assert.AreEqual(0x7770UL, m.V(0x5D8));
        Assert.AreEqual(0x3330UL, m.V(0x578));
        Assert.AreEqual(0x246UL, m.V(0x570));
        Put(0x1A8, 0x0008_0A9B_FFFF_FFFF & 0xFFFF); Put(0x1AA, 0xA9B, 2); Put(0x1AC, 0xFFFFFFFF, 4); Put(0x1B0, 0);
        Check(Mtd.CsSs, VmcbCleanBits.Seg);
        Assert.AreEqual(0xA9BUL, m.V(0x412, 2), "segments are copied as they are");
        Check(Mtd.DsEs, VmcbCleanBits.Seg);
        Check(Mtd.FsGs | Mtd.Tr | Mtd.Ldtr | Mtd.Sysenter | Mtd.SyscallSwapgs | Mtd.Sta, VmcbCleanBits.None);
        Put(0x21C, 0x2F, 4); Put(0x220, 0x1000);
        Check(Mtd.Gdtr, VmcbCleanBits.Dt);
        Assert.AreEqual(0x2FUL, m.V(0x464, 4));
        Check(Mtd.Idtr, VmcbCleanBits.Dt);
        Put(0xE8, Cr0.PE | Cr0.ET); Put(0xF0, 0xC2); Put(0xF8, 0x5000); Put(0x100, Cr4.PAE);
        Check(Mtd.Cr, VmcbCleanBits.CrX | VmcbCleanBits.Cr2);
        Assert.AreEqual(Cr0.PE | Cr0.ET, m.V(0x558), "no fixed bits on SVM");
        Assert.AreEqual(0xC2UL, m.V(0x640));
        Assert.AreEqual(0x5000UL, m.V(0x550));
        Assert.AreEqual(Cr4.PAE, m.V(0x548));
        Put(0x178, 0x400);
        Check(Mtd.Dr, VmcbCleanBits.DrX);
        Put(0x140, Efer.SVME | Efer.LME);
        Check(Mtd.Efer, VmcbCleanBits.CrX);
        Assert.AreEqual(Efer.SVME | Efer.LME, m.V(0x4D0));
        Put(0xE0, 1u << 18, 4); Put(0xE4, 1, 4);
        Check(Mtd.Ctrl, VmcbCleanBits.I | VmcbCleanBits.Np);
        Assert.AreEqual((ulong)(NovaSvm.ForceCtrl0 | 1u << 18), m.V(0x00C, 4));
        Assert.AreEqual((ulong)(NovaSvm.ForceCtrl1 | 1u), m.V(0x010, 4));
        Put(0x240, 50);
        Check(Mtd.Tsc, VmcbCleanBits.I);
        Check(Mtd.Tsc, VmcbCleanBits.I);
        Assert.AreEqual(100UL, m.V(0x050), "the TSC offset is relative: two replies of 50");
        Put(0x48, 0x0000_0004_8000_0B0EUL | 0x1000);
        Check(Mtd.Inj, VmcbCleanBits.Tpr | VmcbCleanBits.I);
        Assert.AreEqual(0x0000_0004_8000_0B0EUL, m.V(0x0A8), "EVENTINJ without the request bits");
        Assert.AreEqual(1UL << 24 | 1UL << 8 | 1UL << 20, m.V(0x060), "V_IRQ and V_IGN_TPR");
        Assert.AreNotEqual(0UL, m.V(0x00C, 4) & NovaSvm.CpuVintr);
        Put(0x48, 0x2000);
        Check(Mtd.Inj, VmcbCleanBits.Tpr | VmcbCleanBits.I);
        Assert.AreEqual(1UL << 24, m.V(0x060), "no NMI window on SVM; the IRQ window request is withdrawn");
        Assert.AreEqual(0UL, m.V(0x00C, 4) & NovaSvm.CpuVintr);
        Assert.AreEqual(0UL, m.V(0x0A8));
        Assert.AreEqual(0xFFu, m.Regs.DstPortal);
    }

    private static void StartupReply(NovaSvmMachine m, bool interceptVmrun)
    {
        m.Memory.Zero(U, 4096);
        void Put(int at, ulong v, int size = 8) => m.Memory.Write(U + (ulong)at, size, v);
        void Seg(int at, ushort sel, ushort ar, uint limit, ulong b) { Put(at, sel, 2); Put(at + 2, ar, 2); Put(at + 4, limit, 4); Put(at + 8, b); }
        Put(0x30, NovaSvmMachine.GuestCode);
        Put(0x38, 2);
        Put(0x70, NovaSvmMachine.GuestStack);
        Seg(0x1A8, NovaSvmMachine.CodeSelector, 0xA9B, 0xFFFFFFFF, 0);
        foreach (var at in new[] { 0x198, 0x1B8, 0x1C8, 0x1D8, 0x1E8 }) Seg(at, NovaSvmMachine.DataSelector, 0xC93, 0xFFFFFFFF, 0);
        Seg(0x208, NovaSvmMachine.TssSelector, 0x8B, 0x67, NovaSvmMachine.TssAddress);
        Seg(0x218, 0, 0, 0x27, NovaSvmMachine.GdtAddress);
        Seg(0x228, 0, 0, 0xFFF, NovaSvmMachine.IdtAddress);
        Put(0xE8, Cr0.PE | Cr0.NE | Cr0.PG | Cr0.ET);
        Put(0xF8, NovaSvmMachine.PageTables);
        Put(0x100, Cr4.PAE);
        Put(0x178, 0x400);
        Put(0x140, Efer.SVME | Efer.LME | Efer.LMA);
        Put(0xE0, 1u << 18, 4);
        Put(0xE4, interceptVmrun ? 1u : 0, 4);
        Put(0x20, 0x87FF_FFFF & ~(uint)(Mtd.Pdpte | Mtd.Tpr));
    }

    private static uint Run(NovaSvmMachine m)
    {
        m.Regs.LoadInto(m.Cpu, svm: true);
        var before = m.Svm.ExitCount;
        var result = m.Svm.Vmrun(NovaSvmMachine.Vmcb);
        Assert.IsTrue(result == SvmResult.Success || result == SvmResult.VmexitInvalid, result.ToString());
        if (m.Svm.ExitCount == before) m.Cpu.Run(m.Cpu.Cycles + 100_000);
        Assert.AreEqual(before + 1, m.Svm.ExitCount);
        m.Regs.SaveFrom(m.Cpu, svm: true);
        return SvmStateTransfer.ExitPortal(m.Memory, NovaSvmMachine.Vmcb, m.Regs);
    }

    private static ulong Tsc(Processor cpu) => (ulong)((long)cpu.Cycles + cpu.TscOffset);

    [TestMethod]
    public void CpuidHltAndNestedPageFaultReachTheirPortals()
    {
        using var m = new NovaSvmMachine();
        m.Code(a => { a.mov(rbx, 0x2222); a.cpuid(); a.mov(rax, NovaSvmMachine.NptHole + 8); a.mov(rcx, __qword_ptr[rax]); a.hlt(); });
        StartupReply(m, interceptVmrun: true);
        SvmStateTransfer.Save(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U);
        Assert.AreEqual(0x72u, Run(m), "CPUID");
        m.FillUtcb();
        SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, Mtd.RipLen | Mtd.GprAcdb | Mtd.Qual, Tsc(m.Cpu));
        Assert.AreEqual(0x72UL, m.Memory.Read(U + 0x250, 8));
        Assert.AreEqual(NovaSvmMachine.GuestCode + 10, m.Memory.Read(U + 0x30, 8));
        Assert.AreEqual(0xA5A5_A5A5_A5A5_A5A5UL, m.Memory.Read(U + 0x28, 8), "SVM reports no instruction length");
        Assert.AreEqual(0x2222UL, m.Memory.Read(U + 0x68, 8));

        m.Memory.Write(U + 0x30, 8, NovaSvmMachine.GuestCode + 12);
        m.Memory.Write(U + 0x20, 8, (uint)Mtd.RipLen);
        SvmStateTransfer.Save(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U);
        Assert.AreEqual(0xFCu, Run(m), "a nested page fault goes to portal 0xfc");
        m.FillUtcb();
        SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, Mtd.Qual | Mtd.GprAcdb, Tsc(m.Cpu));
        Assert.AreEqual(NovaSvmMachine.NptHole + 8, m.Memory.Read(U + 0xD8, 8), "qual[1] = EXITINFO2, the guest-physical address");
        var info1 = m.Memory.Read(U + 0xD0, 8);
        Assert.AreEqual(0UL, info1 & 1, "not present (APM 15.25.6: EXITINFO1 bit 0)");
        Assert.AreEqual(NovaSvmMachine.NptHole + 8, m.Memory.Read(U + 0x50, 8), "RAX from the VMCB");
    }

    [TestMethod]
    public void VmrunWithoutItsInterceptIsInvalidStatePortal0xfd()
    {
        using var m = new NovaSvmMachine();
        m.Code(a => a.hlt());
        StartupReply(m, interceptVmrun: false);
        SvmStateTransfer.Save(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U);
        Assert.AreEqual(0xFDu, Run(m));
        m.FillUtcb();
        SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, Mtd.Inj, Tsc(m.Cpu));
        Assert.AreEqual(0xFDUL, m.Memory.Read(U + 0x250, 8));
        Assert.AreEqual(0UL, m.Memory.Read(U + 0x48, 8), "inj from EVENTINJ, nothing pending");
    }

    [TestMethod]
    public void HltExitsToPortal0x78()
    {
        using var m = new NovaSvmMachine();
        m.Code(a => { a.nop(); a.hlt(); });
        StartupReply(m, interceptVmrun: true);
        SvmStateTransfer.Save(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U);
        Assert.AreEqual(0x78u, Run(m));
        SvmStateTransfer.Load(m.Memory, NovaSvmMachine.Vmcb, m.Regs, U, Mtd.RipLen, Tsc(m.Cpu));
        Assert.AreEqual(NovaSvmMachine.GuestCode + 1, m.Memory.Read(U + 0x30, 8));
    }
}
