using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>Code fetched where no RAM or device answers reads all ones (open bus) and never breaks the host.</summary>
[TestClass]
public sealed class OpenBusFetchTests
{
    [TestMethod]
    public void JumpBeyondTheEndOfRamExecutesOpenBusBytes()
    {
        // 16 MiB of RAM, the first GiB identity-mapped: 0x3FFFFFFE is mapped but backed by nothing.
        using var g = GuestRunner.Long(a =>
        {
            a.mov(rbx, 0x3FFFFFFEUL);
            a.jmp(rbx);
        });
        g.Run(100_000);
        // FF FF is no valid instruction: #UD at the open-bus address.
        Assert.AreEqual(6, g.HaltedVector);
        Assert.AreEqual(0x3FFFFFFEUL, g.Stack(0, 8), "the #UD frame's RIP is the open-bus address");
    }
}
