using static Iced.Intel.AssemblerRegisters;

namespace Sim.Cpu.Tests;

[TestClass]
public sealed class SmokeTests
{
    [TestMethod]
    public void RealModeLoopWritesDigitsToDebugPort()
    {
        using var g = new GuestRunner();
        var code = GuestRunner.Assemble(16, 0x7C00, a =>
        {
            var loop = a.CreateLabel();
            a.mov(al, (byte)'0');
            a.mov(cx, 10);
            a.Label(ref loop);
            a.@out(0xE9, al);
            a.inc(al);
            a.loop(loop);
            a.mov(al, 5);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.Load(0x7C00, code);
        g.StartReal(0x7C00);
        var stop = g.Run();
        Assert.AreEqual(StopReason.StopRequested, stop);
        Assert.AreEqual("0123456789", g.Bus.Output.ToString());
        Assert.AreEqual(5, g.Bus.ExitValue);
    }

    [TestMethod]
    public void ProtectedModeCallsAndMemory()
    {
        using var g = new GuestRunner();
        var code = GuestRunner.Assemble(32, GuestRunner.CodeAddress, a =>
        {
            var square = a.CreateLabel();
            var loop = a.CreateLabel();
            a.mov(ecx, 1);
            a.mov(edi, 0x200000);
            a.Label(ref loop);
            a.mov(eax, ecx);
            a.call(square);
            a.mov(__dword_ptr[edi + ecx * 4], eax);
            a.inc(ecx);
            a.cmp(ecx, 11);
            a.jne(loop);
            a.mov(eax, __dword_ptr[edi + 40]);
            a.@out(0xF4, al);
            a.hlt();
            a.Label(ref square);
            a.imul(eax, eax);
            a.ret();
        });
        g.Load(GuestRunner.CodeAddress, code);
        g.StartProtected(GuestRunner.CodeAddress);
        Assert.AreEqual(StopReason.StopRequested, g.Run());
        Assert.AreEqual(100, g.Bus.ExitValue);
    }

    [TestMethod]
    public void LongModeArithmeticAndFlags()
    {
        using var g = new GuestRunner();
        var code = GuestRunner.Assemble(64, GuestRunner.CodeAddress, a =>
        {
            a.mov(rax, 0x7FFFFFFFFFFFFFFFUL);
            a.add(rax, 1);
            a.seto(bl);
            a.mov(rcx, 0x123456789UL);
            a.mov(rdx, 0);
            a.mov(r8, 0x10);
            a.div(r8);
            a.add(bl, dl);
            a.mov(al, bl);
            a.@out(0xF4, al);
            a.hlt();
        });
        g.Load(GuestRunner.CodeAddress, code);
        g.StartLong(GuestRunner.CodeAddress);
        Assert.AreEqual(StopReason.StopRequested, g.Run());
        Assert.AreEqual(1, g.Bus.ExitValue);
    }
}
