using Sim.Cpu.Registers;

namespace Sim.Svm.Tests;

/// <summary>A nested page fault while an event is being delivered reports the event in EXITINTINFO (AMD APM vol. 2, 15.7.2, 15.25.6).</summary>
[TestClass]
public sealed class NestedPagingDeliveryTests
{
    [TestMethod]
    public void NpfOnTheGuestIdtDuringInjectionCarriesTheEvent()
    {
        using var m = new SvmTestMachine();
        var tables = new NptTables(m.Memory, 0xA00000);
        tables.MapRange(0x400000, 0);
        tables.SetEntry(SvmTestMachine.GuestIdt32, 1, 0);
        m.Vmcb.Write(VmcbLayout.NpEnable, 8, 1);
        m.Vmcb.Write(VmcbLayout.NCr3, 8, tables.Root);
        var injected = SvmEventInjection.Encode(ExceptionVector.GP, SvmEventInjection.TypeException, 0x18, true);
        m.Vmcb.Write(VmcbLayout.EventInj, 8, injected);
        m.GuestProgram(a => a.hlt());
        var v = m.RunToExit(SvmExitCode.Npf);
        Assert.AreEqual(SvmTestMachine.GuestIdt32 + ExceptionVector.GP * 8, v.ExitInfo2, "the IDT entry's guest-physical address");
        Assert.AreEqual(injected, v.ExitIntInfo, "EXITINTINFO: the injected #GP with its error code, for the VMM to reinject");
        Assert.AreEqual(SvmTestMachine.GuestCode, v.Rip);
    }
}
