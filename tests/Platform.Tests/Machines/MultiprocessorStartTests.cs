using Iced.Intel;
using Sim.Images;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Machines;

/// <summary>Application processors started the way firmware and kernels start them: INIT, then two SIPIs through the ICR (SDM vol. 3, 9.4.4.1).</summary>
[TestClass]
public sealed class MultiprocessorStartTests
{
    private const uint CodeAt = 0x100000, TrampolineAt = 0x8000, CheckInAt = 0x9000;

    /// <summary>
    /// 32-bit BSP: INIT-SIPI-SIPI to every other processor by the all-excluding-self shorthand, waits
    /// until <paramref name="cpus"/> - 1 have checked in, then writes the sum of their APIC IDs to the exit port.
    /// Each AP starts in real mode at 0800:0000, reads its initial APIC ID from CPUID.1:EBX[31:24],
    /// adds it to a shared sum with LOCK XADD, counts itself in and halts.
    /// </summary>
    private static BootImage Guest(int cpus)
    {
        var bsp = new Assembler(32);
        bsp.mov(esp, 0x180000);
        bsp.mov(__dword_ptr[0xFEE0_0300], 0x000C_4500);
        bsp.mov(__dword_ptr[0xFEE0_0300], 0x000C_4600 | (TrampolineAt >> 12));
        bsp.mov(__dword_ptr[0xFEE0_0300], 0x000C_4600 | (TrampolineAt >> 12));
        var wait = bsp.CreateLabel();
        bsp.Label(ref wait);
        bsp.pause();
        bsp.cmp(__dword_ptr[CheckInAt], cpus - 1);
        bsp.jb(wait);
        bsp.mov(eax, __dword_ptr[CheckInAt + 4]);
        bsp.@out(0xF4, al);
        bsp.hlt();

        var ap = new Assembler(16);
        ap.xor(ax, ax);
        ap.mov(ds, ax);
        ap.mov(eax, 1);
        ap.cpuid();
        ap.shr(ebx, 24);
        ap.@lock.xadd(__dword_ptr[CheckInAt + 4], ebx);
        ap.@lock.inc(__dword_ptr[CheckInAt]);
        ap.cli();
        var halt = ap.CreateLabel();
        ap.Label(ref halt);
        ap.hlt();
        ap.jmp(halt);

        return new BootImage
        {
            Chunks =
            [
                new MemoryChunk(CodeAt, GuestAssembly.Assemble(bsp, CodeAt)),
                new MemoryChunk(TrampolineAt, GuestAssembly.Assemble(ap, TrampolineAt)),
                new MemoryChunk(CheckInAt, new byte[8]),
            ],
            Entry = new ProtectedModeEntry(CodeAt, 0, 0),
            Description = "INIT-SIPI-SIPI",
        };
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void TheBspStartsEveryApplicationProcessor(int cpus)
    {
        RunResult Run()
        {
            using var machine = new Machine(new MachineConfig { Cpus = cpus, MaxInstructions = 10_000_000 });
            machine.Load(Guest(cpus));
            var result = machine.Run();
            for (var i = 1; i < cpus; i++) Assert.AreEqual(Sim.Cpu.ActivityState.Hlt, machine.Processors[i].Activity, $"AP {i} ran and halted");
            return result;
        }

        var first = Run();
        Assert.AreEqual(RunOutcome.DebugExit, first.Outcome, first.Message);
        var idSum = cpus * (cpus - 1) / 2;
        Assert.AreEqual((idSum << 1) | 1, first.ExitCode, "each AP added its own APIC ID once");
        var second = Run();
        Assert.AreEqual((first.Instructions, first.Cycles), (second.Instructions, second.Cycles), "deterministic");
    }

    [TestMethod]
    public void ASipiWithoutInitIsIgnoredByAProcessorThatRuns()
    {
        // Only a processor in wait-for-SIPI takes a SIPI (SDM vol. 3, 9.4.4): the BSP's own SIPI to itself does nothing.
        var a = new Assembler(32);
        a.mov(__dword_ptr[0xFEE0_0300], 0x0004_4600 | (TrampolineAt >> 12));
        a.mov(al, 0x2A);
        a.@out(0xF4, al);
        using var machine = new Machine(new MachineConfig { MaxInstructions = 1000 });
        machine.Load(new BootImage { Chunks = [new MemoryChunk(CodeAt, GuestAssembly.Assemble(a, CodeAt))], Entry = new ProtectedModeEntry(CodeAt, 0, 0), Description = "self SIPI" });
        var result = machine.Run();
        Assert.AreEqual((0x2A << 1) | 1, result.ExitCode, result.Message);
    }

    [TestMethod]
    public void WritingSleepTypeS5WithSleepEnablePowersTheMachineOff()
    {
        // PM1a_CNT at 604h: SLP_TYP (bits 10-12) = the \_S5 value, SLP_EN (bit 13).
        var a = new Assembler(32);
        a.mov(dx, ChipsetLayout.Pm1aControlBlock);
        a.mov(ax, (ushort)((ChipsetLayout.SoftOffSleepType << 10) | (1 << 13)));
        a.@out(dx, ax);
        a.mov(al, 0x2A);
        a.@out(0xF4, al);
        using var machine = new Machine(new MachineConfig { MaxInstructions = 1000 });
        machine.Load(new BootImage { Chunks = [new MemoryChunk(CodeAt, GuestAssembly.Assemble(a, CodeAt))], Entry = new ProtectedModeEntry(CodeAt, 0, 0), Description = "S5" });
        var result = machine.Run();
        Assert.AreEqual(RunOutcome.PowerOff, result.Outcome, result.Message);
        Assert.AreEqual(0, result.ExitCode);
    }
}
