using Sim.Cpu.Registers;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Vmx.Tests;

[TestClass]
public sealed class BaselineTests
{
    [TestMethod]
    public void BaselineGuestRunsUntilHltExit()
    {
        using var m = new VmxMachine().Ready();
        m.Code(a => { a.mov(eax, 42); a.hlt(); });
        var exit = m.LaunchAndRun();
        Assert.AreEqual(VmExitReason.Hlt, exit.BasicReason);
        Assert.AreEqual(1u, exit.InstructionLength);
        Assert.AreEqual(VmxMachine.GuestCode + 5, m.Read(VmcsField.GuestRip), "RIP saved at the HLT (SDM vol. 3, 28.3.3)");
        Assert.AreEqual(42UL, m.Cpu.Rax);
        Assert.AreEqual(VmxMachine.HostCode, m.Cpu.Rip);
        Assert.AreEqual(0x90000UL, m.Cpu.Rsp);
        Assert.AreEqual(Rflags.Reserved1, m.Cpu.Flags);
    }
}
