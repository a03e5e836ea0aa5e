using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Svm.Tests;

/// <summary>
/// Reserved bits in the paging structures a guest uses (AMD APM vol. 2, 5.3 and 15.25): in the nested
/// tables they give #VMEXIT(NPF) with the RSV bit in EXITINFO1 (15.25.6), in the guest's own tables a
/// #PF with RSV in its error code (8.4.2), seen here through the #PF intercept.
/// </summary>
[TestClass]
public sealed class ReservedBitFaultTests
{
    private const ulong Pool = 0xA00000;
    private const ulong P = 1, Rsv = 8;

    [TestMethod]
    public void NestedEntryWithAReservedBitGivesNpfWithRsv()
    {
        using var m = new SvmTestMachine();
        var tables = new NptTables(m.Memory, Pool);
        tables.MapRange(0x400000, 0);
        // Bit 45 lies in 51:MAXPHYADDR (40): reserved in a long-mode nested PTE (5.3.2).
        tables.Map4K(0x60000, 0x60000, NptTables.Rwu | (1UL << 45));
        m.Vmcb.Write(VmcbLayout.NpEnable, 8, 1);
        m.Vmcb.Write(VmcbLayout.NCr3, 8, tables.Root);
        m.GuestProgram(a => { a.mov(eax, __dword_ptr[0x60010]); a.hlt(); });
        var v = m.RunToExit(SvmExitCode.Npf);
        // 15.25.6: EXITINFO1 has the #PF error-code bits of the nested fault (P and RSV here) and bit 32 for the final address.
        Assert.AreEqual(P | Rsv, v.ExitInfo1 & (P | Rsv));
        Assert.AreEqual(1UL << 32, v.ExitInfo1 & (3UL << 32));
        Assert.AreEqual(0x60010UL, v.ExitInfo2);
    }

    [TestMethod]
    public void GuestPageTableWithAReservedBitGivesPfWithRsv()
    {
        using var m = new SvmTestMachine();
        m.LongModeGuest();
        // The guest's 2-MiB PDE for 200000h with bit 45 set, reserved at MAXPHYADDR 40 (5.3.3).
        const ulong pde = SvmTestMachine.Pml4 + 0x2000 + 8;
        m.Memory.Write(pde, 8, m.Memory.Read(pde, 8) | (1UL << 45));
        m.GuestProgram(a => { a.mov(rax, 0x200010); a.mov(rbx, __qword_ptr[rax]); a.hlt(); }, 64);
        m.Vmcb.InterceptException(ExceptionVector.PF);
        var v = m.RunToExit(SvmExitCode.Exception + ExceptionVector.PF);
        // 8.4.2: a reserved bit in a present entry is a #PF with P and RSV set; EXITINFO1 is the error code (15.12.15).
        Assert.AreEqual(P | Rsv, v.ExitInfo1);
        Assert.AreEqual(0x200010UL, v.ExitInfo2);
    }
}
