using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>VMRUN with NP_ENABLE (AMD APM vol. 2, 15.25): guest-physical memory through the nested tables, #VMEXIT(NPF) with its EXITINFO, ASID-tagged translations.</summary>
[TestClass]
public sealed class NestedPagingExitTests
{
    private const ulong Pool = 0xA00000;

    private static NptTables NestedGuest(SvmTestMachine m, ulong vmcb = SvmTestMachine.VmcbPa)
    {
        var tables = new NptTables(m.Memory, Pool);
        tables.MapRange(0x400000, 0);
        var v = new Vmcb(m.Memory, vmcb);
        v.Write(VmcbLayout.NpEnable, 8, 1);
        v.Write(VmcbLayout.NCr3, 8, tables.Root);
        return tables;
    }

    [TestMethod]
    public void GuestPhysicalMemoryGoesThroughTheNestedTables()
    {
        using var m = new SvmTestMachine();
        var tables = NestedGuest(m);
        tables.Map4K(0x60000, 0x900000);
        m.Memory.Write(0x900000, 4, 0xCAFE);
        m.Memory.Write(0x60000, 4, 0xBAD);
        m.GuestProgram(a => { a.mov(eax, __dword_ptr[0x60000]); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0xCAFEUL, v.Rax, "guest-physical 60000h is host-physical 900000h");
        Assert.IsNull(m.Cpu.SecondLevel, "#VMEXIT detaches the nested translation");
    }

    [TestMethod]
    public void UnmappedGuestPhysicalPageExitsWithNpf()
    {
        using var m = new SvmTestMachine();
        var tables = NestedGuest(m);
        tables.SetEntry(0x60000, 1, 0);
        m.GuestProgram(a => { a.mov(ecx, 7); a.mov(__dword_ptr[0x60010], ecx); a.hlt(); });
        var v = m.RunToExit(SvmExitCode.Npf);
        Assert.AreEqual(0x60010UL, v.ExitInfo2, "EXITINFO2: the faulting guest-physical address (15.25.6)");
        Assert.AreEqual(1UL << 32, v.ExitInfo1 & (3UL << 32), "bit 32: the fault is on the final guest-physical address");
        Assert.AreEqual(2UL, v.ExitInfo1 & 3, "P = 0 (not present), RW = 1 (a write)");
        Assert.AreEqual(SvmTestMachine.GuestCode + 5, v.Rip, "the store did not complete");
        Assert.AreEqual(0UL, m.Memory.Read(0x60010, 4));
        Assert.AreNotEqual(0UL, v.Read(VmcbLayout.NumberOfBytesFetched, 1), "decode assist: instruction bytes for #NPF");
    }

    [TestMethod]
    public void GuestPatIsLoadedWithNestedPagingAndTheHostsRestored()
    {
        using var m = new SvmTestMachine();
        NestedGuest(m);
        m.Vmcb.Write(VmcbLayout.GPat, 8, 0x0606060606060606UL);
        m.GuestProgram(a => { a.mov(ecx, 0x277); a.rdmsr(); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        var hostPat = m.Cpu.Pat;
        var v = m.RunToExit(SvmExitCode.Hlt);
        Assert.AreEqual(0x06060606UL, v.Rax, "the guest reads G_PAT as its PAT (15.25.8)");
        Assert.AreEqual(hostPat, m.Cpu.Pat);
    }

    [TestMethod]
    public void EachAsidKeepsItsOwnTranslationsAndTlbControlFlushesThem()
    {
        using var m = new SvmTestMachine();
        var tables = NestedGuest(m);
        tables.Map4K(0x60000, 0x900000);
        m.Memory.Write(0x900000, 4, 1);
        m.Memory.Write(0x901000, 4, 2);
        m.GuestProgram(a => { a.mov(eax, __dword_ptr[0x60000]); a.hlt(); });
        m.Vmcb.Intercept(SvmIntercept.Hlt);
        Assert.AreEqual(1UL, m.RunToExit(SvmExitCode.Hlt).Rax);

        // The VMM remaps the page without flushing: the ASID's cached translation still serves the old page.
        tables.Map4K(0x60000, 0x901000);
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        Assert.AreEqual(1UL, m.RunToExit(SvmExitCode.Hlt).Rax, "TLB entries are tagged by ASID and survive #VMEXIT and VMRUN (15.16)");

        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.TlbControl, 1, 3);
        Assert.AreEqual(2UL, m.RunToExit(SvmExitCode.Hlt).Rax, "TLB_CONTROL = 3 flushes this guest's ASID");

        tables.Map4K(0x60000, 0x900000);
        m.Vmcb.Write(VmcbLayout.Rip, 8, SvmTestMachine.GuestCode);
        m.Vmcb.Write(VmcbLayout.TlbControl, 1, 0);
        m.Vmcb.Write(VmcbLayout.GuestAsid, 4, 2);
        Assert.AreEqual(1UL, m.RunToExit(SvmExitCode.Hlt).Rax, "another ASID has no cached translations");
    }
}
