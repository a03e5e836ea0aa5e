using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Machines;

/// <summary>The PC's legacy x87 error report (SDM vol. 1, D.2.1): with CR0.NE = 0, FERR# raises IRQ 13, which port F0h clears.</summary>
[TestClass]
public sealed class CoprocessorErrorTests
{
    [TestMethod]
    public void PendingUnmaskedExceptionRaisesIrq13WhenNeIsClear()
    {
        var boot = new Assembler(16);
        var handler = boot.CreateLabel();
        var main = boot.CreateLabel();
        boot.jmp(main);
        // IRQ 13: clear the latch and the exception, count, and acknowledge both 8259s.
        boot.Label(ref handler);
        boot.push(ax);
        boot.@out(0xF0, al);
        boot.fnclex();
        boot.inc(__byte_ptr[0x600]);
        boot.mov(al, 0x20);
        boot.@out(0xA0, al);
        boot.@out(0x20, al);
        boot.pop(ax);
        boot.iret();
        boot.Label(ref main);
        boot.xor(ax, ax);
        boot.mov(ds, ax);
        boot.mov(__byte_ptr[0x600], 0);
        boot.mov(__word_ptr[0x75 * 4], 0x7C00 + 2);
        boot.mov(__word_ptr[0x75 * 4 + 2], 0);
        boot.@in(al, 0xA1);
        boot.and(al, 0xDF);
        boot.@out(0xA1, al);
        boot.@in(al, 0x21);
        boot.and(al, 0xFB);
        boot.@out(0x21, al);
        boot.sti();
        boot.fninit();
        boot.mov(__word_ptr[0x610], 0x037B);
        boot.fldcw(__word_ptr[0x610]);
        boot.fldz();
        boot.fld1();
        boot.fdiv(st0, st1);
        boot.fld1();
        boot.nop();
        boot.nop();
        boot.mov(al, __byte_ptr[0x600]);
        boot.@out(0xF4, al);
        boot.hlt();
        var image = GuestAssembly.Assemble(boot, 0x7C00);
        using var machine = new Machine(new MachineConfig { Console = new CapturedOutput(), MaxInstructions = 1_000_000 });
        machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = GuestAssembly.Disk(image), Description = "FERR#" });
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
        Assert.AreEqual((1 << 1) | 1, result.ExitCode, "IRQ 13 was taken once");
    }
}
