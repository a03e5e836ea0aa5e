using Iced.Intel;
using Sim.Images;
using Sim.Platform.Devices;
using static Iced.Intel.AssemblerRegisters;

namespace Sim.Platform.Tests.Machines;

[TestClass]
public sealed class MachineTests
{
    private static (Machine Machine, CapturedOutput Console) Create(ulong? maxInstructions = 5_000_000)
    {
        var console = new CapturedOutput();
        var machine = new Machine(new MachineConfig { Console = console, MaxInstructions = maxInstructions });
        return (machine, console);
    }

    private static BootImage Flat(EntryState entry, params MemoryChunk[] chunks) =>
        new() { Chunks = chunks, Entry = entry, Description = "test guest" };

    [TestMethod]
    public void BootSectorPrintsThroughInt10AndReadsASectorThroughInt13()
    {
        var boot = new Assembler(16);
        boot.mov(ah, 0x0E);
        boot.mov(al, (byte)'H');
        boot.@int(0x10);
        boot.mov(al, (byte)'i');
        boot.@int(0x10);
        // CHS 0/0/2 -> 0000:8000, one sector.
        boot.xor(ax, ax);
        boot.mov(es, ax);
        boot.mov(bx, 0x8000);
        boot.mov(ax, 0x0201);
        boot.mov(cx, 0x0002);
        boot.xor(dh, dh);
        boot.@int(0x13);
        boot.jc(boot.F);
        boot.jmp(0x8000);
        boot.AnonymousLabel();
        boot.hlt();

        var second = new Assembler(16);
        second.mov(ah, 0x0E);
        second.mov(al, (byte)'!');
        second.@int(0x10);
        second.mov(al, dl);
        second.@out(0xF4, al);
        second.hlt();

        var disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00), GuestAssembly.Assemble(second, 0x8000));
        var (machine, console) = Create();
        using (machine)
        {
            machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = disk, Description = "boot sector" });
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual("Hi!", console.ToString());
            Assert.AreEqual((0x80 << 1) | 1, result.ExitCode, "DL held the boot drive");
        }
    }

    [TestMethod]
    public void BiosProgramsThePitAndCountsTicksInTheBda()
    {
        var boot = new Assembler(16);
        boot.sti();
        boot.AnonymousLabel();
        boot.hlt();
        boot.cmp(__word_ptr[0x46C], 3);
        boot.jb(boot.B);
        boot.mov(ah, 0x00);
        boot.@int(0x1A);
        boot.mov(al, dl);
        boot.@out(0xF4, al);
        boot.hlt();
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x00), Disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00)), Description = "ticks" });
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((3 << 1) | 1, result.ExitCode, "INT 1Ah AH=00h returns the BDA tick count");
            // Mode 3 with count 65536: the third rising edge of OUT0 comes 3 * 65536 CLK pulses after the load.
            var thirdEdge = (ulong)((UInt128)(1 + 3 * 65536UL) * 1_000_000_000 / Pit8254.InputFrequencyHz);
            Assert.IsTrue(result.Cycles >= thirdEdge, $"{result.Cycles} cycles");
            Assert.IsTrue(result.Instructions < 10_000, "halted time is skipped, not executed");
        }
    }

    /// <summary>32-bit guest: IDT gate for vector 20h, PIC remapped to 20h, PIT mode 2 at ~1 kHz; counts five IRQ 0s while halted.</summary>
    private static BootImage PitInterruptGuest()
    {
        const uint codeAt = 0x100000, handlerAt = 0x101000, idtAt = 0x102000, idtrAt = 0x103000, counterAt = 0x104000;
        var a = new Assembler(32);
        // The Multiboot state leaves ESP undefined: the guest brings its own stack.
        a.mov(esp, 0x108000);
        a.lidt(__fword_ptr[idtrAt]);
        foreach (var (port, value) in new (byte, byte)[] { (0x20, 0x11), (0x21, 0x20), (0x21, 0x04), (0x21, 0x01), (0x21, 0xFE) })
        {
            a.mov(al, value);
            a.@out(port, al);
        }
        a.mov(al, 0x34);
        a.@out(0x43, al);
        a.mov(al, 1193 & 0xFF);
        a.@out(0x40, al);
        a.mov(al, 1193 >> 8);
        a.@out(0x40, al);
        a.sti();
        a.AnonymousLabel();
        a.hlt();
        a.cmp(__dword_ptr[counterAt], 5);
        a.jb(a.B);
        a.cli();
        a.mov(eax, __dword_ptr[counterAt]);
        a.add(al, (byte)'0');
        a.@out(0xE9, al);
        a.mov(al, 0);
        a.@out(0xF4, al);
        a.hlt();

        var h = new Assembler(32);
        h.push(eax);
        h.inc(__dword_ptr[counterAt]);
        h.mov(al, 0x20);
        h.@out(0x20, al);
        h.pop(eax);
        h.iretd();

        var idt = new byte[0x21 * 8];
        var gate = (ulong)(handlerAt & 0xFFFF) | 0x08UL << 16 | 0x8E00UL << 32 | (ulong)(handlerAt >> 16) << 48;
        BitConverter.TryWriteBytes(idt.AsSpan(0x20 * 8), gate);
        var idtr = new byte[6];
        BitConverter.TryWriteBytes(idtr.AsSpan(0), (ushort)(idt.Length - 1));
        BitConverter.TryWriteBytes(idtr.AsSpan(2), idtAt);
        return Flat(new ProtectedModeEntry(codeAt, 0, 0),
            new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt)),
            new MemoryChunk(handlerAt, GuestAssembly.Assemble(h, handlerAt)),
            new MemoryChunk(idtAt, idt),
            new MemoryChunk(idtrAt, idtr),
            new MemoryChunk(counterAt, new byte[4]));
    }

    [TestMethod]
    public void ProtectedModeGuestTakesPitInterrupts()
    {
        var (machine, console) = Create();
        using (machine)
        {
            machine.Load(PitInterruptGuest());
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual(1, result.ExitCode);
            Assert.AreEqual("5", console.ToString());
            var fifthEdge = (ulong)((UInt128)(1 + 5 * 1193UL) * 1_000_000_000 / Pit8254.InputFrequencyHz);
            Assert.IsTrue(result.Cycles >= fifthEdge && result.Cycles < fifthEdge + 1_000_000, $"{result.Cycles} cycles");
        }
    }

    [TestMethod]
    public void SameGuestGivesTheSameRun()
    {
        RunResult RunOnce()
        {
            var (machine, _) = Create();
            using (machine)
            {
                machine.Load(PitInterruptGuest());
                return machine.Run();
            }
        }
        var first = RunOnce();
        var second = RunOnce();
        Assert.AreEqual(first.Cycles, second.Cycles);
        Assert.AreEqual(first.Instructions, second.Instructions);
    }

    [TestMethod]
    public void TripleFaultEndsTheRunWithExitCode4()
    {
        const uint codeAt = 0x100000, idtrAt = 0x100800;
        var a = new Assembler(32);
        a.lidt(__fword_ptr[idtrAt]);
        a.ud2();
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt)), new MemoryChunk(idtrAt, new byte[6])));
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.TripleFault, result.Outcome, result.Message);
            Assert.AreEqual(4, result.ExitCode);
            StringAssert.Contains(result.Message, "triple fault");
        }
    }

    [TestMethod]
    public void CliHltHaltsForever()
    {
        const uint codeAt = 0x100000;
        var a = new Assembler(32);
        a.cli();
        a.hlt();
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt))));
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.HaltedForever, result.Outcome, result.Message);
            Assert.AreEqual(6, result.ExitCode);
            Assert.AreEqual(2UL, result.Instructions);
        }
    }

    [TestMethod]
    public void LongModeGuestReloadsSegmentsFromThePlatformGdtAndExits()
    {
        const ulong codeAt = 0x200000;
        var a = new Assembler(64);
        var reloaded = a.CreateLabel();
        a.mov(ax, 0x10);
        a.mov(ds, ax);
        a.mov(ss, ax);
        a.mov(rsp, 0x300000);
        a.push(0x08);
        a.lea(rax, __[reloaded]);
        a.push(rax);
        a.db(0x48, 0xCB);
        a.Label(ref reloaded);
        // Above 1 GiB is reachable only through the platform's identity map (RAM ends at 64 MiB, so it reads as open bus).
        a.mov(rbx, 0x4000_0000UL);
        a.mov(eax, __dword_ptr[rbx]);
        a.cmp(eax, -1);
        a.jne(a.F);
        a.mov(al, 0x2A);
        a.@out(0xF4, al);
        a.AnonymousLabel();
        a.mov(al, 0x01);
        a.@out(0xF4, al);
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(Flat(new LongModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt))));
            Assert.AreEqual(machine.PlatformAreaBase, machine.PageTableAddress);
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((0x2A << 1) | 1, result.ExitCode);
        }
    }

    [TestMethod]
    public void StopFromAnotherThreadEndsTheRunWithItsStatus()
    {
        const uint codeAt = 0x100000;
        var a = new Assembler(32);
        a.AnonymousLabel();
        a.jmp(a.B);
        var (machine, _) = Create(maxInstructions: null);
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt))));
            var stopper = new Thread(() =>
            {
                while (machine.InstructionsRetired == 0) Thread.Yield();
                machine.Stop(143, "stopped by SIGTERM");
            });
            stopper.Start();
            var result = machine.Run();
            stopper.Join();
            Assert.AreEqual(RunOutcome.Stopped, result.Outcome);
            Assert.AreEqual(143, result.ExitCode);
            StringAssert.StartsWith(result.Message, "stopped by SIGTERM at CS:RIP=0008:");
        }
    }

    [TestMethod]
    public void InstructionLimitBoundsAGuestWhoseFaultHandlerFaultsAtOnce()
    {
        // 4 MiB pages identity-map 4 GiB except 4000_0000h, where the #PF handler is: fetching it
        // raises #PF again, pushing a frame each time and retiring nothing, with a stack that wraps.
        const uint codeAt = 0x100000, pageDirectoryAt = 0x200000, idtAt = 0x201000, idtrAt = 0x202000, handlerAt = 0x4000_0000;
        var pageDirectory = new byte[4096];
        for (var i = 0; i < 1024; i++)
            if (i != handlerAt >> 22) BitConverter.TryWriteBytes(pageDirectory.AsSpan(i * 4), ((uint)i << 22) | 0x83);
        var idt = new byte[15 * 8];
        BitConverter.TryWriteBytes(idt.AsSpan(14 * 8), (ulong)(handlerAt & 0xFFFF) | 0x08UL << 16 | 0x8E00UL << 32 | (ulong)(handlerAt >> 16) << 48);
        var idtr = new byte[6];
        BitConverter.TryWriteBytes(idtr.AsSpan(0), (ushort)(idt.Length - 1));
        BitConverter.TryWriteBytes(idtr.AsSpan(2), idtAt);
        var a = new Assembler(32);
        a.mov(esp, 0x180000);
        a.lidt(__fword_ptr[idtrAt]);
        a.mov(eax, 1u << 4);
        a.mov(cr4, eax);
        a.mov(eax, pageDirectoryAt);
        a.mov(cr3, eax);
        a.mov(eax, 0x8000_0011u);
        a.mov(cr0, eax);
        a.mov(eax, handlerAt);
        a.jmp(eax);
        var (machine, _) = Create(maxInstructions: 20_000);
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0),
                new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt)),
                new MemoryChunk(pageDirectoryAt, pageDirectory),
                new MemoryChunk(idtAt, idt),
                new MemoryChunk(idtrAt, idtr)));
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.InstructionLimit, result.Outcome, result.Message);
            Assert.AreEqual(10UL, result.Instructions, "the ten instructions before the jump; the faults retire none");
            Assert.AreEqual(20_000UL - 10, machine.Processors[0].ExceptionsDelivered);
            Assert.AreEqual((ulong)handlerAt, machine.Processors[0].Cr2);
        }
    }

    /// <summary>A virtualization unit's own deadline (as the VMX-preemption timer's): at it, the unit ends the halt.</summary>
    private sealed class DeadlineWakesHalt : Sim.Cpu.Virtualization.IVirtualizationHooks
    {
        public int Calls { get; private set; }

        public bool Intercept(Sim.Cpu.Processor cpu, ref Sim.Cpu.Virtualization.Intercept intercept)
        {
            if (intercept.Kind != Sim.Cpu.Virtualization.InterceptKind.EventWindow || cpu.Cycles < cpu.EventDeadline) return false;
            Calls++;
            cpu.EventDeadline = ulong.MaxValue;
            cpu.Activity = Sim.Cpu.ActivityState.Active;
            return true;
        }

        public bool TryReadMsr(Sim.Cpu.Processor cpu, uint index, out ulong value)
        {
            value = 0;
            return false;
        }

        public bool TryWriteMsr(Sim.Cpu.Processor cpu, uint index, ulong value) => false;
    }

    [TestMethod]
    public void AHaltWithInterruptsOffWakesAtTheProcessorsOwnDeadlineBeyondTheQuantum()
    {
        // cli; hlt with a deadline of the processor's own (the VMX-preemption timer counts down in HLT)
        // far beyond the scheduling quantum: the processor, not the machine, says when it can go on.
        const uint codeAt = 0x100000;
        var a = new Assembler(32);
        a.cli();
        a.hlt();
        a.mov(al, 0x2A);
        a.@out(0xF4, al);
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt))));
            var hooks = new DeadlineWakesHalt();
            var cpu = machine.Processors[0];
            cpu.Hooks = hooks;
            cpu.EventDeadline = 50 * machine.Config.QuantumCycles;
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((0x2A << 1) | 1, result.ExitCode);
            Assert.AreEqual(1, hooks.Calls);
            Assert.IsTrue(result.Cycles >= 50 * machine.Config.QuantumCycles, $"woke at its deadline, {result.Cycles} cycles");
        }
    }

    [TestMethod]
    public void The8259ReachesTheProcessorAsAnExtIntMessageThroughIoApicPin0()
    {
        // Virtual wire through the I/O APIC (MP spec 3.6.2.2): LINT0 masked, redirection entry 0 in
        // ExtINT mode to APIC 0; the vector still comes from the 8259 at the acknowledge.
        var (machine, console) = Create();
        using (machine)
        {
            machine.Load(PitInterruptGuest());
            machine.LocalApics[0].WriteRegister(0x350, 4, 0x1_0700);
            machine.IoApic.WriteRegister(0x10, (uint)Sim.Platform.Apic.DeliveryMode.ExtInt << 8);
            machine.IoApic.WriteRegister(0x11, 0);
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual("5", console.ToString(), "five IRQ 0s with vector 20h from the 8259");
        }
    }

    [TestMethod]
    public void InstructionLimitEndsAnEndlessLoop()
    {
        const uint codeAt = 0x100000;
        var a = new Assembler(32);
        a.AnonymousLabel();
        a.jmp(a.B);
        var (machine, _) = Create(maxInstructions: 1000);
        using (machine)
        {
            machine.Load(Flat(new ProtectedModeEntry(codeAt, 0, 0), new MemoryChunk(codeAt, GuestAssembly.Assemble(a, codeAt))));
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.InstructionLimit, result.Outcome, result.Message);
            Assert.AreEqual(8, result.ExitCode);
            Assert.IsTrue(result.Instructions >= 1000);
        }
    }

    [TestMethod]
    public void BochsShutdownFromRealMode()
    {
        var boot = new Assembler(16);
        boot.mov(dx, 0x8900);
        foreach (var c in "Shutdown")
        {
            boot.mov(al, (byte)c);
            boot.@out(dx, al);
        }
        boot.hlt();
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00)), Description = "bochs" });
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.BochsShutdown, result.Outcome, result.Message);
            Assert.AreEqual(0, result.ExitCode);
        }
    }

    [TestMethod]
    public void E820MapDescribesTheRam()
    {
        var boot = new Assembler(16);
        // Walk the map into 0000:0600, 24 bytes per entry, then report the number of entries.
        boot.xor(ax, ax);
        boot.mov(es, ax);
        boot.mov(di, 0x600);
        boot.xor(ebx, ebx);
        boot.xor(bp, bp);
        boot.AnonymousLabel();
        boot.mov(eax, 0xE820);
        boot.mov(edx, 0x534D4150);
        boot.mov(ecx, 24);
        boot.@int(0x15);
        boot.jc(boot.F);
        boot.inc(bp);
        boot.add(di, 24);
        boot.test(ebx, ebx);
        boot.jnz(boot.B);
        boot.AnonymousLabel();
        boot.mov(ax, bp);
        boot.@out(0xF4, al);
        boot.hlt();
        var (machine, _) = Create();
        using (machine)
        {
            machine.Load(new BootImage { Chunks = [], Entry = new RealModeEntry(0, 0x7C00, 0x80), Disk = GuestAssembly.Disk(GuestAssembly.Assemble(boot, 0x7C00)), Description = "e820" });
            var result = machine.Run();
            Assert.AreEqual(RunOutcome.DebugExit, result.Outcome, result.Message);
            Assert.AreEqual((4 << 1) | 1, result.ExitCode);
            var last = 0x600UL + 3 * 24;
            Assert.AreEqual(0x100000UL, machine.Memory.Read(last, 8));
            Assert.AreEqual(machine.Memory.RamSize - 0x100000, machine.Memory.Read(last + 8, 8));
            Assert.AreEqual(1UL, machine.Memory.Read(last + 16, 4));
        }
    }
}
