using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>SYSCALL outside 64-bit mode: #UD on Intel (SDM vol. 2, SYSCALL), allowed on AMD (APM vol. 3, SYSCALL).</summary>
[TestClass]
public sealed class FastSystemCallModeTests
{
    [TestMethod]
    [DataRow(CpuVendor.Intel, true)]
    [DataRow(CpuVendor.Amd, false)]
    public void SyscallInProtectedMode(CpuVendor vendor, bool undefined)
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.syscall();
            a.hlt();
        });
        g.Cpu.Vendor = vendor;
        Assert.IsTrue(g.Cpu.TryWriteMsr(Msr.Efer, Efer.SCE));
        Assert.IsTrue(g.Cpu.TryWriteMsr(Msr.Star, (0x08UL << 32) | 0x20000));
        g.Code(32, 0x20000, a => a.hlt());
        g.Run();
        if (undefined)
        {
            Assert.AreEqual((int)ExceptionVector.UD, g.HaltedVector);
        }
        else
        {
            Assert.AreEqual(0x20001UL, g.Cpu.Rip, "halted after the HLT at STAR[31:0]");
            Assert.AreEqual((ulong)(GuestRunner.CodeAddress + 2), g.Cpu.Rcx & 0xFFFFFFFF, "ECX holds the return EIP");
        }
    }
}
