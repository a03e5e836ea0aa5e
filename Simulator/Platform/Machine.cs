using System.Diagnostics;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Images;
using Sim.Platform.Apic;
using Sim.Platform.Bios;
using Sim.Platform.Devices;
using Sim.Platform.Firmware;
using Sim.Platform.Time;
using Sim.Platform.Tracing;
using Sim.Svm;
using Sim.Vmx;

namespace Sim.Platform;

/// <summary>
/// The simulated PC: RAM, the processors with their own cycle clocks, the port bus with the legacy
/// devices, and the scheduler that always advances the processor furthest behind (ties to the lowest
/// index) and delivers device events from one time-ordered queue, so that the same inputs give the
/// same run. The 8259A pair drives CPU 0's INTR.
/// </summary>
public sealed class Machine : IDisposable
{
    /// <summary>Size of the platform's own area (GDT and long-mode page tables) for direct protected- and long-mode boots.</summary>
    public const ulong PlatformAreaSize = 0x10000;

    /// <summary>The least RAM a PC needs here: the real-mode first MiB and room above it.</summary>
    public const ulong MinimumMemoryBytes = 2UL << 20;

    private const ulong LowMemoryEnd = 0x100000;

    private readonly Func<ulong>[] _timeSources;
    private readonly IProcessorOwner?[] _owners;
    private Processor? _running;
    private readonly bool[] _stalled;
    private StopRequest? _stop;
    private bool _disposed;

    public Machine(MachineConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Cpus < 1) throw new ArgumentOutOfRangeException(nameof(config), "A machine needs at least one processor.");
        if (config.MemoryBytes < MinimumMemoryBytes) throw new ArgumentOutOfRangeException(nameof(config), "A PC needs at least 2 MiB of RAM.");
        Config = config;
        Memory = new PhysicalMemory(config.MemoryBytes);
        Clock = new MachineClock(config.CpuFrequencyHz);
        Io = new IoBus();
        Control = new MachineControl { StopRunning = () => _running?.RequestStop() };

        var processors = new Processor[config.Cpus];
        _stalled = new bool[config.Cpus];
        _timeSources = new Func<ulong>[config.Cpus];
        _owners = new IProcessorOwner?[config.Cpus];
        for (var i = 0; i < config.Cpus; i++)
        {
            var cpu = new Processor(Memory, Io, i) { TscFrequencyHz = config.CpuFrequencyHz };
            if (i > 0) cpu.Activity = ActivityState.WaitForSipi;
            processors[i] = cpu;
            _timeSources[i] = () => cpu.Cycles;
        }
        Processors = _processors = processors;
        if (config.Vendor == CpuVendor.Intel)
        {
            var registry = new VmcsRegistry();
            VmxUnits = Array.ConvertAll(processors, cpu => new VmxUnit(cpu, registry) { Costs = config.Costs });
        }
        else
        {
            SvmUnits = Array.ConvertAll(processors, cpu => new SvmUnit(cpu) { Costs = config.Costs });
        }

        Pic = new CascadedPic8259A();
        Pit = new Pit8254(Clock);
        PortB = new SystemControlPortB(Pit);
        Rtc = new RtcMc146818(Clock, config.RtcStart);
        Rtc.SetMemorySize(config.MemoryBytes);
        Com1 = new Uart16550A(config.Console, config.SerialInput);
        A20 = new A20Gate();
        PostCodes = new PostCodePort();
        KeyboardController = new KeyboardController8042(A20, Control);
        BiosServices = new BiosServices(Memory, Com1, Rtc, A20);

        ApicBus = new ApicBus();
        LocalApics = Array.ConvertAll(processors, cpu => new LocalApic(cpu, ApicBus, Clock) { ExtIntSource = Pic });
        foreach (var apic in LocalApics)
        {
            apic.Processor.LocalApic = apic;
            apic.Processor.InterruptSource = apic;
        }
        // The 8259 pair's INTR reaches every LINT0 (virtual-wire mode); the BIOS has programmed the bootstrap processor's.
        Pic.InterruptRaised = () =>
        {
            foreach (var apic in LocalApics) apic.ExtIntChanged();
        };
        LocalApics[0].SetUpVirtualWire();
        var bsp = processors[0];

        IoApic = new IoApic82093AA(ApicBus);
        // The firmware gives the I/O APIC the ID its MADT and MP table name.
        IoApic.WriteRegister(IoApic82093AA.IoApicIdRegister, (uint)ChipsetLayout.IoApicId(config.Cpus) << 24);
        ApicBus.AddEoiListener(IoApic);
        Memory.MapMmio(ChipsetLayout.IoApicBase, PhysicalMemory.PageSize, IoApic);
        IsaInterrupts = new IsaInterruptLines(Pic, IoApic);
        // The 8259's INTR on I/O APIC pin 0, which the MP table names ExtINT (virtual wire through the I/O APIC).
        Pic.IntrLevel = level => IoApic.SetPinLevel(0, level);
        Hpet = new Hpet(Clock)
        {
            GsiLevel = IoApic.SetPinLevel,
            IsaIrqLevel = Pic.SetIrqLevel,
            LegacyReplacementChanged = IsaInterrupts.LegacyReplacementChanged,
        };
        Memory.MapMmio(ChipsetLayout.HpetBase, PhysicalMemory.PageSize, Hpet);
        AcpiPm = new AcpiPmRegisters(Clock)
        {
            SciLevel = level => IsaInterrupts.SetLevel(ChipsetLayout.SciIrq, level),
            PowerOff = () => Control.RequestExit(RunOutcome.PowerOff, RunResult.PowerOffExitCode, "the guest powered the machine off (ACPI S5)"),
        };
        Pit.Out0Rising = IsaInterrupts.PitOut0Rising;
        Rtc.IrqLevel = IsaInterrupts.RtcLevel;
        Com1.IrqLevel = level => IsaInterrupts.SetLevel(Uart16550A.Com1Irq, level);
        A20.Changed = enabled => Memory.A20Enabled = enabled;
        Memory.A20Enabled = A20.Enabled;

        Io.Register(CascadedPic8259A.MasterPort, 2, Pic);
        Io.Register(CascadedPic8259A.SlavePort, 2, Pic);
        Io.Register(CascadedPic8259A.ElcrPort, 2, Pic);
        Io.Register(Pit8254.BasePort, 4, Pit);
        Io.Register(SystemControlPortB.Port, 1, PortB);
        Io.Register(RtcMc146818.IndexPort, 2, Rtc);
        Io.Register(Com1.BasePort, 8, Com1);
        Io.Register(KeyboardController8042.DataPort, 1, KeyboardController);
        Io.Register(KeyboardController8042.StatusPort, 1, KeyboardController);
        Io.Register(PostCodePort.Port, 1, PostCodes);
        CoprocessorError = new CoprocessorErrorLatch(level => IsaInterrupts.SetLevel(CoprocessorErrorLatch.Irq, level));
        foreach (var cpu in processors) cpu.FpuErrorSignal = CoprocessorError;
        Io.Register(CoprocessorErrorLatch.Port, 1, CoprocessorError);
        Io.Register(SystemControlPortA.Port, 1, new SystemControlPortA(A20, Control));
        Io.Register(DebugConsolePort.Port, 1, new DebugConsolePort(config.DebugConsole ?? config.Console));
        Io.Register(DebugExitPort.Port, 1, new DebugExitPort(Control));
        Io.Register(ResetControlRegister.Port, 1, new ResetControlRegister(Control));
        Io.Register(BochsShutdownPort.Port, 1, new BochsShutdownPort(Control));
        Io.Register(Bios.BiosServices.BasePort, Bios.BiosServices.PortCount, BiosServices);
        Io.Register(AcpiPmRegisters.BasePort, AcpiPmRegisters.PortCount, AcpiPm);
        FwCfg = new FwCfgDevice(Memory, config);
        FwCfg.Register(Io);
    }

    public MachineConfig Config { get; }

    public PhysicalMemory Memory { get; }

    public IReadOnlyList<Processor> Processors { get; }

    // The same, for the run loop: a foreach over the interface would allocate an enumerator every quantum.
    private readonly Processor[] _processors;

    public MachineClock Clock { get; }

    /// <summary>The VT-x unit of each processor, indexed like <see cref="Processors"/>; empty on an AMD machine.</summary>
    public IReadOnlyList<VmxUnit> VmxUnits { get; } = [];

    /// <summary>The AMD-V unit of each processor, indexed like <see cref="Processors"/>; empty on an Intel machine.</summary>
    public IReadOnlyList<SvmUnit> SvmUnits { get; } = [];

    /// <summary>VM exits (VMX) or #VMEXITs (SVM) on all processors so far, entry failures included.</summary>
    public ulong VmExits
    {
        get
        {
            ulong sum = 0;
            foreach (var unit in VmxUnits) sum += unit.ExitCount;
            foreach (var unit in SvmUnits) sum += unit.ExitCount;
            return sum;
        }
    }

    public IoBus Io { get; }

    /// <summary>The interrupt messages between the local APICs and from the I/O APIC.</summary>
    public ApicBus ApicBus { get; }

    /// <summary>Each processor's local APIC, indexed like <see cref="Processors"/>.</summary>
    public IReadOnlyList<LocalApic> LocalApics { get; }

    /// <summary>The I/O APIC at <see cref="ChipsetLayout.IoApicBase"/>.</summary>
    public IoApic82093AA IoApic { get; }

    /// <summary>The ISA IRQ lines to the 8259 pair and the I/O APIC.</summary>
    public IsaInterruptLines IsaInterrupts { get; }

    /// <summary>The HPET at <see cref="ChipsetLayout.HpetBase"/>.</summary>
    public Hpet Hpet { get; }

    /// <summary>The ACPI PM1 event, control and timer registers at <see cref="ChipsetLayout.PmBase"/>.</summary>
    public AcpiPmRegisters AcpiPm { get; }

    public MachineControl Control { get; }

    /// <summary>The machine's trace-event stream; kernel models emit into it, tools attach listeners.</summary>
    public TraceStream Trace { get; } = new();

    public CascadedPic8259A Pic { get; }

    /// <summary>FERR# to IRQ 13, cleared by a write to port F0h.</summary>
    public CoprocessorErrorLatch CoprocessorError { get; }

    public Pit8254 Pit { get; }

    public SystemControlPortB PortB { get; }

    public RtcMc146818 Rtc { get; }

    public Uart16550A Com1 { get; }

    public A20Gate A20 { get; }

    public PostCodePort PostCodes { get; }

    public KeyboardController8042 KeyboardController { get; }

    public BiosServices BiosServices { get; }

    public FwCfgDevice FwCfg { get; }

    /// <summary>Where <see cref="Load"/> put the platform's GDT (protected and long mode), or 0.</summary>
    public ulong GdtAddress { get; private set; }

    /// <summary>Where <see cref="Load"/> put the long-mode PML4 (CR3), or 0.</summary>
    public ulong PageTableAddress { get; private set; }

    /// <summary>
    /// The start of the platform's area, <see cref="PlatformAreaSize"/> bytes: GDT at +0x6000, PML4 at +0,
    /// PDPT at +0x1000, four PDs at +0x2000. <see cref="Load"/> puts it at the highest 64 KiB below
    /// min(RAM, 4 GiB) that no image chunk occupies.
    /// </summary>
    public ulong PlatformAreaBase { get; private set; }

    /// <summary>What <see cref="MachineConfig.MaxInstructions"/> counts: instructions retired and exceptions delivered, on all processors.</summary>
    private ulong Steps
    {
        get
        {
            ulong sum = 0;
            foreach (var cpu in _processors) sum += cpu.InstructionsRetired + cpu.ExceptionsDelivered;
            return sum;
        }
    }

    public ulong InstructionsRetired
    {
        get
        {
            ulong sum = 0;
            foreach (var cpu in _processors) sum += cpu.InstructionsRetired;
            return sum;
        }
    }

    /// <summary>
    /// Leaves the firmware state every boot path finds (<see cref="FirmwareState"/>), copies the image's
    /// chunks to memory over it and puts CPU 0 in the image's entry state. A real-mode image
    /// starts in the BIOS (<see cref="BiosRom"/>), which serves <see cref="BootImage.Disk"/> through INT 13h
    /// and whose boot sector it copies to 0000:7C00 first.
    /// </summary>
    /// <exception cref="ImagePlacementException">A chunk lies outside RAM, or no free room is left for the platform's area.</exception>
    public void Load(BootImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        foreach (var chunk in image.Chunks)
        {
            if (chunk.Address > Memory.RamSize || chunk.Length > Memory.RamSize - chunk.Address)
                throw new ImagePlacementException($"the image's bytes at 0x{chunk.Address:x}-0x{chunk.End:x} lie beyond the end of RAM (0x{Memory.RamSize:x} bytes)");
        }
        FirmwareState.Install(Memory, Config, Processors[0]);
        foreach (var chunk in image.Chunks)
        {
            Memory.WriteBytes(chunk.Address, chunk.Data);
            Memory.Zero(chunk.Address + (ulong)chunk.Data.Length, chunk.ZeroFill);
        }
        var bsp = Processors[0];
        switch (image.Entry)
        {
            case RealModeEntry real:
                LoadRealMode(bsp, image, real);
                break;
            case ProtectedModeEntry pm:
                PlatformAreaBase = FreePlatformArea(image);
                LoadProtectedMode(bsp, pm);
                break;
            case LongModeEntry lm:
                PlatformAreaBase = FreePlatformArea(image);
                LoadLongMode(bsp, lm);
                break;
            default:
                throw new NotSupportedException($"Entry state {image.Entry.GetType().Name} is not supported.");
        }
        ProcessorFirmwareState.Install(Processors, Config);
    }

    /// <summary>
    /// Boots a firmware ROM instead of sim's firmware (QEMU's <c>-bios</c>), mapped as <see cref="FirmwareRom"/>
    /// says: CPU 0 starts at the reset vector in its power-up state, the others wait for a SIPI, the local
    /// APICs are in their power-up state; no BIOS services, tables or BIOS data area of sim's own (fw_cfg stays).
    /// </summary>
    /// <exception cref="ArgumentException">The image is empty, not a multiple of 64 KiB, or larger than 16 MiB.</exception>
    public void LoadBios(ReadOnlySpan<byte> image)
    {
        var rom = new FirmwareRom(image);
        rom.Map(Memory);
        Processors[0].Reset();
        // The constructor left the bootstrap processor's LINT0 in virtual-wire mode, as sim's firmware does; a ROM programs it itself.
        LocalApics[0].Init();
    }

    /// <summary>
    /// The highest <see cref="PlatformAreaSize"/>-aligned window below min(RAM, 4 GiB) and above the first
    /// MiB that no chunk overlaps: below 4 GiB because a 32-bit GDTR and CR3 must reach it.
    /// </summary>
    private ulong FreePlatformArea(BootImage image)
    {
        var top = Math.Min(Memory.RamSize, 1UL << 32) & ~(PlatformAreaSize - 1);
        var candidate = top - PlatformAreaSize;
        while (candidate >= LowMemoryEnd)
        {
            ulong? lowest = null;
            foreach (var c in image.Chunks)
            {
                if (c.Length > 0 && c.Address < candidate + PlatformAreaSize && c.End > candidate && (lowest is null || c.Address < lowest))
                    lowest = c.Address;
            }
            if (lowest is not { } below) return candidate;
            if (below < LowMemoryEnd + PlatformAreaSize) break;
            candidate = (below - PlatformAreaSize) & ~(PlatformAreaSize - 1);
        }
        throw new ImagePlacementException(
            $"the image leaves no free {PlatformAreaSize / 1024} KiB between 1 MiB and 0x{top:x} for the platform's GDT and page tables; give the machine more memory");
    }

    private void LoadRealMode(Processor cpu, BootImage image, RealModeEntry entry)
    {
        var rom = BiosRom.Build(entry.Cs, entry.Ip, entry.BootDrive);
        if (image.Disk is { } disk)
        {
            BiosServices.AttachDisk(disk, entry.BootDrive);
            if (disk.Length >= DiskGeometry.SectorSize) Memory.WriteBytes(0x7C00, disk.AsSpan(0, DiskGeometry.SectorSize));
        }
        BiosRom.Install(Memory, rom, BiosServices.Geometry, entry.BootDrive);
        cpu.Reset();
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = BiosRom.Segment, Base = BiosRom.Base, Limit = 0xFFFF, Attributes = 0x9B });
        cpu.Rip = rom.InitOffset;
        cpu.Flags = 0x2;
    }

    private void LoadProtectedMode(Processor cpu, ProtectedModeEntry entry)
    {
        cpu.Reset();
        const ushort code = 0x08, data = 0x10;
        WriteGdt([0, FlatCode32, FlatData]);
        cpu.LoadControlState(Cr0.PE | Cr0.ET, 0, 0, 0);
        LoadFlatSegments(cpu, code, 0xC09B, data);
        cpu.Rip = entry.Eip;
        cpu.SetGpr(0, entry.Eax);
        cpu.SetGpr(3, entry.Ebx);
        cpu.Flags = 0x2;
    }

    private void LoadLongMode(Processor cpu, LongModeEntry entry)
    {
        cpu.Reset();
        const ushort code = 0x08, data = 0x10;
        WriteGdt([0, FlatCode64, FlatData, FlatCode32]);
        PageTableAddress = BuildIdentityPageTables();
        cpu.LoadControlState(Cr0.PE | Cr0.PG | Cr0.ET, PageTableAddress, Cr4.PAE, Efer.LME | Efer.LMA);
        LoadFlatSegments(cpu, code, 0xA09B, data);
        cpu.Rip = entry.Rip;
        cpu.SetGpr(7, entry.Rdi);
        cpu.SetGpr(6, entry.Rsi);
        cpu.Flags = 0x2;
    }

    /// <summary>Flat descriptors (base 0, limit 0xFFFFF pages, DPL 0, accessed) matching the segment registers the loader sets.</summary>
    private const ulong FlatCode32 = 0x00CF_9B00_0000_FFFF;
    private const ulong FlatCode64 = 0x00AF_9B00_0000_FFFF;
    private const ulong FlatData = 0x00CF_9300_0000_FFFF;

    private void WriteGdt(ulong[] descriptors)
    {
        GdtAddress = PlatformAreaBase + 0x6000;
        var bytes = new byte[descriptors.Length * 8];
        for (var i = 0; i < descriptors.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 8), descriptors[i]);
        Memory.WriteBytes(GdtAddress, bytes);
        var bsp = Processors[0];
        bsp.Gdtr = new DescriptorTableRegister { Base = GdtAddress, Limit = (ushort)(bytes.Length - 1) };
    }

    private static void LoadFlatSegments(Processor cpu, ushort codeSelector, uint codeAttributes, ushort dataSelector)
    {
        cpu.SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = codeSelector, Base = 0, Limit = 0xFFFF_FFFF, Attributes = codeAttributes });
        foreach (var s in new[] { SegmentIndex.DS, SegmentIndex.ES, SegmentIndex.SS, SegmentIndex.FS, SegmentIndex.GS })
            cpu.SetSegment(s, new SegmentRegister { Selector = dataSelector, Base = 0, Limit = 0xFFFF_FFFF, Attributes = 0xC093 });
    }

    /// <summary>PML4 → one PDPT → four page directories of 2 MiB pages covering 0–4 GiB, identity-mapped, writable.</summary>
    private ulong BuildIdentityPageTables()
    {
        var pml4 = PlatformAreaBase;
        var pdpt = pml4 + 0x1000;
        var pd = pml4 + 0x2000;
        var tables = new byte[0x6000];
        BitConverter.TryWriteBytes(tables.AsSpan(0), pdpt | 0x03);
        for (var i = 0; i < 4; i++)
        {
            BitConverter.TryWriteBytes(tables.AsSpan(0x1000 + i * 8), (pd + (ulong)i * 0x1000) | 0x03);
            for (var j = 0; j < 512; j++)
            {
                var physical = ((ulong)i << 30) | ((ulong)j << 21);
                BitConverter.TryWriteBytes(tables.AsSpan(0x2000 + i * 0x1000 + j * 8), physical | 0x83);
            }
        }
        Memory.WriteBytes(pml4, tables);
        return pml4;
    }

    /// <summary>
    /// Hands processor <paramref name="index"/> to a kernel model: from now on the machine gives its
    /// slices to <paramref name="owner"/> instead of executing instructions from its state, and a VM
    /// exit on it ends the guest's slice (<see cref="Processor.HostOwned"/>).
    /// </summary>
    public void SetOwner(int index, IProcessorOwner owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        _owners[index] = owner;
        Processors[index].HostOwned = true;
    }

    /// <summary>The owner of processor <paramref name="index"/>, or null while it is bare metal.</summary>
    public IProcessorOwner? OwnerOf(int index) => _owners[index];

    /// <summary>
    /// Asks <see cref="Run"/> to end with <see cref="RunOutcome.Stopped"/> and this exit status before
    /// its next quantum; the first request wins. Safe from any thread, e.g. a signal handler: the
    /// machine sees it between quanta, so the run stops at an instruction boundary.
    /// </summary>
    public void Stop(int exitCode, string message) => Interlocked.CompareExchange(ref _stop, new StopRequest(exitCode, message), null);

    private sealed record StopRequest(int ExitCode, string Message);

    /// <summary>Runs until an exit port is written, CPU 0 triple-faults, nothing can run any more, the instruction limit is reached, or <see cref="Stop"/> is called.</summary>
    public RunResult Run()
    {
        var stopwatch = Stopwatch.StartNew();
        Control.Clear();
        var max = Config.MaxInstructions;
        while (true)
        {
            if (Volatile.Read(ref _stop) is { } stop)
                return Finish(RunOutcome.Stopped, stop.ExitCode, $"{stop.Message} at {Location(Processors[0])}", stopwatch);
            if (Control.Outcome is { } requested) return Finish(requested, Control.ExitCode, Control.Message, stopwatch);
            var retired = Steps;
            if (max is { } limit && retired >= limit)
                return Finish(RunOutcome.InstructionLimit, RunResult.InstructionLimitExitCode, $"instruction limit of {limit} reached at {Location(Processors[0])}", stopwatch);

            var (cpu, at) = Next();
            if (cpu == null)
                return Finish(RunOutcome.HaltedForever, RunResult.HaltedForeverExitCode, HaltedMessage(), stopwatch);
            // A sleeping processor's time passes straight to what wakes it.
            if (at > cpu.Cycles) cpu.Cycles = at;
            Clock.RunDue(cpu.Cycles);
            if (Control.StopRequested) continue;
            if (!cpu.CanMakeProgress && cpu.Cycles < cpu.EventDeadline) continue;

            var deadline = Clock.NextDeadline;

            var until = cpu.Cycles + Config.QuantumCycles;
            if (deadline is { } due && due < until) until = Math.Max(due, cpu.Cycles + 1);
            if (max is { } m && cpu.Cycles + (m - retired) < until) until = cpu.Cycles + (m - retired);

            _running = cpu;
            Clock.TimeSource = _timeSources[cpu.Index];
            StopReason reason;
            var started = cpu.Cycles;
            try
            {
                reason = _owners[cpu.Index] is { } owner ? owner.Run(cpu, until) : cpu.Run(until);
                // A processor that says it can go on but returned halted at once is held (a virtualization unit keeps an interrupt pending): it sleeps until its next wake-up.
                // An owner takes its interrupts itself before it idles, so it is never held that way.
                _stalled[cpu.Index] = reason == StopReason.Halted && cpu.Cycles == started && _owners[cpu.Index] == null;
            }
            finally
            {
                Clock.TimeSource = null;
                _running = null;
            }
            // Between quanta, so that output appears as the guest makes it without a host write per byte.
            Config.Console.Flush();
            Config.DebugConsole?.Flush();
            if (reason == StopReason.Shutdown && cpu.Index == 0)
                return Finish(RunOutcome.TripleFault, RunResult.TripleFaultExitCode, $"CPU 0: triple fault (shutdown) at {Location(cpu)}", stopwatch);
        }
    }

    /// <summary>
    /// The processor to run next and the time it runs at: the one furthest behind, lowest index on a
    /// tie. One that can make progress is at its clock; one that sleeps (halted, waiting for a SIPI)
    /// is at the time it next wakes on its own — its own deadline, or the next device event when an
    /// interrupt would wake it — and one that nothing but another processor can wake is not
    /// considered; null when no processor can ever run again.
    /// </summary>
    private (Processor? Cpu, ulong At) Next()
    {
        Processor? best = null;
        var bestAt = ulong.MaxValue;
        var device = Clock.NextDeadline;
        foreach (var cpu in _processors)
        {
            ulong at;
            if (cpu.CanMakeProgress && !_stalled[cpu.Index])
            {
                at = cpu.Cycles;
            }
            else
            {
                // An own deadline already passed has had its turn (the unit declined it): it wakes nothing more.
                var wake = cpu.EventDeadline > cpu.Cycles ? cpu.EventDeadline : ulong.MaxValue;
                if (cpu.WakesOnInterrupt && device is { } d && d < wake) wake = d;
                if (wake == ulong.MaxValue) continue;
                at = Math.Max(wake, cpu.Cycles);
            }
            if (best == null || at < bestAt)
            {
                best = cpu;
                bestAt = at;
            }
        }
        return (best, bestAt);
    }

    private string HaltedMessage()
    {
        var bsp = Processors[0];
        var why = bsp.Activity switch
        {
            ActivityState.Hlt when !bsp.InterruptsEnabled => "halted with interrupts disabled",
            ActivityState.Hlt => "halted with interrupts enabled and no device event pending",
            ActivityState.Shutdown => "in shutdown",
            _ => bsp.Activity.ToString(),
        };
        return $"CPU 0: {why} at {Location(bsp)}; no processor can run";
    }

    private static string Location(Processor cpu) => $"CS:RIP={cpu.GetSegment(SegmentIndex.CS).Selector:x4}:{cpu.Rip:x8}";

    private RunResult Finish(RunOutcome outcome, int exitCode, string message, Stopwatch stopwatch)
    {
        ulong cycles = 0;
        foreach (var cpu in Processors)
            if (cpu.Activity != ActivityState.WaitForSipi) cycles = Math.Max(cycles, cpu.Cycles);
        return new RunResult(outcome, exitCode, InstructionsRetired, cycles, stopwatch.Elapsed, message);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var cpu in Processors) cpu.Dispose();
        Memory.Dispose();
    }
}
