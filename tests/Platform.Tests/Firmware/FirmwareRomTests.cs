using Sim.Cpu;
using Sim.Cpu.Registers;
using Sim.Platform.Firmware;

namespace Sim.Platform.Tests.Firmware;

/// <summary>Machine.LoadBios: a ROM in place of sim's firmware, as QEMU's -bios maps it.</summary>
[TestClass]
public sealed class FirmwareRomTests
{
    private static (Machine Machine, CapturedOutput Debug, CapturedOutput Serial) Boot(byte[] rom, int cpus = 1, CpuVendor vendor = CpuVendor.Intel)
    {
        var debug = new CapturedOutput();
        var serial = new CapturedOutput();
        var machine = new Machine(new MachineConfig { Cpus = cpus, Vendor = vendor, Console = serial, DebugConsole = debug, MaxInstructions = 1_000_000 });
        machine.LoadBios(rom);
        return (machine, debug, serial);
    }

    [TestMethod]
    public void TheRomRunsFromTheResetVectorInRealModeThenProtectedMode()
    {
        var (machine, debug, serial) = Boot(ResetVectorRom.Build());
        using (machine)
        {
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual(1, result.ExitCode);
            Assert.AreEqual(ResetVectorRom.Output, debug.ToString());
            Assert.AreEqual(ResetVectorRom.Output, serial.ToString());
        }
    }

    [TestMethod]
    public void ProcessorZeroStartsAtItsPowerUpStateAndTheOthersWaitForSipi_Vol3Table10_1()
    {
        var (machine, _, _) = Boot(ResetVectorRom.Build(), cpus: 2);
        using (machine)
        {
            var bsp = machine.Processors[0];
            var cs = bsp.GetSegment(SegmentIndex.CS);
            Assert.AreEqual((ushort)0xF000, cs.Selector);
            Assert.AreEqual(0xFFFF0000UL, cs.Base);
            Assert.AreEqual(0xFFF0UL, bsp.Rip);
            Assert.AreEqual(0x600UL, bsp.Rdx);
            Assert.AreEqual(ActivityState.Active, bsp.Activity);
            Assert.AreEqual(ActivityState.WaitForSipi, machine.Processors[1].Activity);
            foreach (var cpu in machine.Processors)
                Assert.AreEqual(0UL, cpu.FeatureControl, "the ROM programs IA32_FEATURE_CONTROL itself");
        }
    }

    [TestMethod]
    public void TheLocalApicsAreInTheirPowerUpState_Vol3_11_4_7_1()
    {
        var (machine, _, _) = Boot(ResetVectorRom.Build(), cpus: 2);
        using (machine)
        {
            foreach (var apic in machine.LocalApics)
            {
                Assert.AreEqual(0xFFUL, apic.ReadRegister(0xF0, 4), "SVR FFh: software-disabled");
                Assert.AreEqual(0x10000UL, apic.ReadRegister(0x350, 4), "LINT0 masked, not ExtINT");
                Assert.AreEqual(0x10000UL, apic.ReadRegister(0x360, 4), "LINT1 masked, not NMI");
            }
        }
    }

    [TestMethod]
    public void NoFirmwareTablesOrBiosDataAreaOfSimsOwn()
    {
        var (machine, _, _) = Boot(ResetVectorRom.Build());
        using (machine)
        {
            var bda = new byte[0x100];
            machine.Memory.ReadBytes(0x400, bda);
            Assert.IsTrue(bda.All(b => b == 0), "no BIOS data area");
            for (ulong at = 0x80000; at < 0x100000; at += 16) Assert.AreNotEqual(0x2052545020445352UL, machine.Memory.Read(at, 8), $"no RSDP at 0x{at:x}");
        }
    }

    [TestMethod]
    public void TheImageLiesAtTheTopOf4GiBAndItsLast128KiBBelow1MiB()
    {
        var rom = new byte[256 * 1024];
        for (var i = 0; i < rom.Length; i++) rom[i] = (byte)(i * 7 + (i >> 16));
        var (machine, _, _) = Boot(rom);
        using (machine)
        {
            for (var i = 0; i < rom.Length; i += 0x1001)
                Assert.AreEqual(rom[i], (byte)machine.Memory.Read(0x1_0000_0000UL - (ulong)rom.Length + (ulong)i, 1), $"offset {i:x}");
            for (var i = 0; i < 128 * 1024; i += 0x333)
                Assert.AreEqual(rom[rom.Length - 128 * 1024 + i], (byte)machine.Memory.Read(0xE0000UL + (ulong)i, 1), $"alias offset {i:x}");
            Assert.AreEqual(0UL, machine.Memory.Read(0xDFFFF, 1), "RAM below the alias");
        }
    }

    [TestMethod]
    public void ASmallImageIsAliasedWhole()
    {
        var rom = ResetVectorRom.Build();
        var (machine, _, _) = Boot(rom);
        using (machine)
        {
            Assert.AreEqual((ulong)rom[0], machine.Memory.Read(0xF0000, 1));
            Assert.AreEqual(0UL, machine.Memory.Read(0xEFFFF, 1), "RAM below a 64 KiB alias");
        }
    }

    [TestMethod]
    public void WritesToTheRomAreIgnored()
    {
        var rom = new byte[128 * 1024];
        var (machine, _, _) = Boot(rom);
        using (machine)
        {
            foreach (var address in new ulong[] { 0xE0000, 0xFFFF0, 0xFFFE0000, 0xFFFFFFF8 })
            {
                machine.Memory.Write(address, 8, 0x1122334455667788);
                Assert.AreEqual(0UL, machine.Memory.Read(address, 8), $"0x{address:x}");
            }
        }
    }

    [TestMethod]
    public void RomCodeIsDecodedOnceAndCached()
    {
        // A loop at the reset vector's page: as fast as code in RAM only if its block is cached.
        var rom = new byte[64 * 1024];
        Array.Fill(rom, (byte)0xF4);
        // mov ecx, 200000 ; l: dec ecx ; jnz l ; out F4h, al
        new byte[] { 0x66, 0xB9, 0x40, 0x0D, 0x03, 0x00, 0x66, 0x49, 0x75, 0xFC, 0xE6, 0xF4 }.CopyTo(rom, 0xFFF0 - 0x10);
        new byte[] { 0xEB, 0xEE }.CopyTo(rom, 0xFFF0);
        var (machine, _, _) = Boot(rom);
        using (machine)
        {
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual(400_003UL, result.Instructions);
        }
    }

    [TestMethod]
    public void ImagesThatAreNotAWholeNumberOf64KiBUpTo16MiBAreRefused()
    {
        using var machine = new Machine(new MachineConfig());
        Assert.ThrowsExactly<ArgumentException>(() => machine.LoadBios([]));
        Assert.ThrowsExactly<ArgumentException>(() => machine.LoadBios(new byte[4096]));
        Assert.ThrowsExactly<ArgumentException>(() => machine.LoadBios(new byte[FirmwareRom.MaximumSize + FirmwareRom.Granule]));
        Assert.IsNull(FirmwareRom.SizeProblem(FirmwareRom.MaximumSize));
    }
}
