using Iced.Intel;
using Sim.Images;
using Sim.Platform.Devices;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Machines;

/// <summary>Issue 14's guests on the whole machine: each must end as the BIOS or the chip would answer it, never with a host exception.</summary>
[TestClass]
public sealed class HostileGuestTests
{
    private static RunResult Boot(Assembler boot, out Machine machine)
    {
        machine = new Machine(new MachineConfig { Console = Stream.Null, MaxInstructions = 5_000_000 });
        var disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00), new byte[512]);
        machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = disk, Description = "hostile guest" });
        return machine.Run();
    }

    [TestMethod]
    public void ExtendedReadAtSector7FFFFFFFFFFFFFEndsWithAnErrorInAh()
    {
        var boot = new Assembler(16);
        var failed = boot.CreateLabel();
        boot.mov(__word_ptr[0x600], 0x0010);
        boot.mov(__word_ptr[0x602], 1);
        boot.mov(__word_ptr[0x604], 0x8000);
        boot.mov(__word_ptr[0x606], 0);
        boot.mov(__dword_ptr[0x608], 0xFFFFFFFF);
        boot.mov(__dword_ptr[0x60C], 0x007FFFFF);
        boot.mov(si, 0x600);
        boot.mov(ah, 0x42);
        boot.mov(dl, 0x80);
        boot.@int(0x13);
        boot.jc(failed);
        boot.mov(al, 0xFF);
        boot.@out(0xF4, al);
        boot.Label(ref failed);
        boot.mov(al, ah);
        boot.@out(0xF4, al);
        boot.hlt();
        var result = Boot(boot, out var machine);
        using (machine)
        {
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((0x01 << 1) | 1, result.ExitCode, "CF set, AH = 01h (SeaBIOS: an LBA past the disk is an invalid parameter)");
        }
    }

    [TestMethod]
    public void ClockSetTo9999LastSecondRollsOverWhileTheGuestWaits()
    {
        var boot = new Assembler(16);
        foreach (var (index, value) in new (byte, byte)[]
        {
            (0x0B, 0x82), (0x00, 0x59), (0x02, 0x59), (0x04, 0x23), (0x07, 0x31), (0x08, 0x12), (0x09, 0x99), (0x32, 0x99), (0x0B, 0x02),
        })
        {
            boot.mov(al, index);
            boot.@out(0x70, al);
            boot.mov(al, value);
            boot.@out(0x71, al);
        }
        // About 1.1 s of 18.2 Hz ticks.
        boot.sti();
        boot.AnonymousLabel();
        boot.hlt();
        boot.cmp(__word_ptr[0x46C], 20);
        boot.jb(boot.B);
        boot.mov(al, 0x09);
        boot.@out(0x70, al);
        boot.@in(al, 0x71);
        boot.@out(0xF4, al);
        boot.hlt();
        var result = Boot(boot, out var machine);
        using (machine)
        {
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((0x00 << 1) | 1, result.ExitCode, "year 99 + 1 = 00");
            Assert.AreEqual(0x01, machine.Rtc.ReadRegister(RtcMc146818.Month));
            Assert.AreEqual(0x01, machine.Rtc.ReadRegister(RtcMc146818.DateOfMonth));
            Assert.AreEqual(0x99, machine.Rtc.ReadRegister(RtcMc146818.CenturyIndex));
        }
    }
}
