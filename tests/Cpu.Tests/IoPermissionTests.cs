using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

/// <summary>I/O permission bit map of the TSS for CPL > IOPL (SDM vol. 1, 19.5).</summary>
[TestClass]
public sealed class IoPermissionTests
{
    [TestMethod]
    public void Cpl3WithIopl0UsesTheIoBitmap_19_5_2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(al, (byte)'A');
            a.@out(0xE9, al);
            a.mov(dx, 0x80);
            a.@out(dx, al);
        });
        // Bit map right after the 104-byte TSS; its last byte must be followed by FFh inside the limit.
        g.AddUserSegmentsAndTss32(tssLimit: 0x68 + 0x20);
        g.Memory.Write(GuestRunner.TssAddress + 0x66, 2, 0x68);
        for (ulong i = 0; i <= 0x20; i++) g.Memory.Write(GuestRunner.TssAddress + 0x68 + i, 1, 0xFF);
        g.Memory.Write(GuestRunner.TssAddress + 0x68 + 0xE9 / 8, 1, 0xFF & ~(1 << (0xE9 % 8)));
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(Registers.ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual("A", g.Bus.Output.ToString());
        Assert.AreEqual(0UL, g.Stack(0));
        Assert.AreEqual(GuestRunner.CodeAddress + 4 + 4, g.Stack(1), "the OUT to port 80h faulted");
    }

    [TestMethod]
    public void PortBeyondTheTssLimitIsDenied_19_5_2()
    {
        using var g = GuestRunner.Protected(a =>
        {
            a.mov(al, (byte)'B');
            a.@out(0xE9, al);
        });
        g.Memory.Write(GuestRunner.TssAddress + 0x66, 2, 0x68);
        g.EnterUser32(GuestRunner.CodeAddress, 0x7F000);
        Assert.AreEqual(Registers.ExceptionVector.GP, g.RunToVector());
        Assert.AreEqual("", g.Bus.Output.ToString());
    }
}
