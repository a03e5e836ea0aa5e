using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Timing;
using Sim.Images;
using Sim.Platform;
using Sim.Vmm.Toy;
using Spectre.Console;

namespace Sim.Cli.Commands;

/// <summary>`sim run`: runs a guest headlessly; its console goes to stdout and its exit status becomes sim's.</summary>
public sealed class RunCommand(ImageResolver images, ConsoleStreams console)
{
    private readonly Argument<string?> _image = new("image")
    {
        Description = "Guest image: raw binary, boot-sector/floppy/disk image, Multiboot kernel (ELF32 or a.out kludge) or ELF64. Without one, a built-in guest runs.",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private readonly Option<string?> _guest = new("--guest") { Description = "Built-in guest to run instead of an image: demo (default), bench32, bench64, vmx (a VT-x hypervisor with two nested guests; needs --vendor intel), svm (an AMD-V hypervisor with two nested guests; needs --vendor amd)." };
    private readonly Option<uint?> _iterations = new("--iterations") { Description = "Work size of the bench32/bench64 guests." };
    private readonly Option<bool> _floppy = new("--floppy") { Description = "Boot the built-in guest from a floppy through the BIOS instead of placing it in memory." };
    private readonly Option<int> _cpus = new("--cpus") { Description = "Number of physical CPUs (2 for a --kernel run).", DefaultValueFactory = _ => 1 };
    private readonly Option<CpuVendor> _vendor = new("--vendor") { Description = "Processor vendor: Intel (with VT-x, the default) or Amd (with AMD-V).", DefaultValueFactory = _ => CpuVendor.Intel };
    private readonly Option<string> _memory = new("--memory") { Description = "RAM size, e.g. 64M or 1G.", DefaultValueFactory = _ => "64M" };
    private readonly Option<ulong?> _maxInstructions = new("--max-instructions") { Description = "Stop after this many instructions, each exception delivered counting as one (exit status 8)." };
    private readonly Option<bool> _stats = new("--stats") { Description = "Print instructions, simulated cycles, VM exits, host seconds and MIPS to stderr." };
    private readonly Option<ImageFormat> _format = new("--format") { Description = "Image format instead of detecting it.", DefaultValueFactory = _ => ImageFormat.Auto };
    private readonly Option<string?> _loadAddress = new("--load-address") { Description = "Load address of a raw image (hex with 0x, or decimal)." };
    private readonly Option<string> _cmdline = new("--cmdline") { Description = "Multiboot command line.", DefaultValueFactory = _ => "" };
    private readonly Option<string> _serial = new("--serial") { Description = "Where COM1 output goes: stdout, stderr, none or a file.", DefaultValueFactory = _ => "stdout" };
    private readonly Option<string> _debugcon = new("--debugcon") { Description = "Where port 0xE9 output goes: stdout, stderr, none or a file (off by default, as in QEMU and Bochs).", DefaultValueFactory = _ => "none" };
    private readonly Option<string?> _bios = new("--bios") { Description = "Boot this firmware ROM instead of sim's firmware, as QEMU's -bios: mapped read-only at the top of 4 GiB, its last 128 KiB below 1 MiB; CPU 0 starts at the reset vector. Takes no image or guest." };
    private readonly Option<FeatureControlSetting> _featureControl = new("--feature-control") { Description = "IA32_FEATURE_CONTROL as sim's firmware leaves it on an Intel machine: locked (VMX enabled, the default) or unlocked (0; VMXON raises #GP until the guest sets it).", DefaultValueFactory = _ => FeatureControlSetting.Locked };
    private readonly Option<string?> _costs = new("--costs") { Description = "JSON file of modeled cycle costs (VM exit, VM entry, VMREAD, ...) that replace the published defaults; any subset of figures, e.g. { \"vmxExit\": 300 }." };
    private readonly Option<string?> _kernel = new("--kernel") { Description = "Kernel model to run a VMM on instead of a guest: nova (the NOVA microhypervisor with Genode's core). Needs --vmm." };
    private readonly Option<string?> _vmm = new("--vmm") { Description = "VMM to run on --kernel: toy (Genode's VMM unit test, test/vmm_x86; its log goes to stdout). Needs --kernel." };
    private readonly Option<ToyVariant> _variant = new("--variant") { Description = "Version of the toy VMM: 2019 (Genode 19.05) or current (the default).", DefaultValueFactory = _ => ToyVariant.Current };
    private readonly Option<string[]> _modules = new("--module") { Description = "Multiboot module file (repeatable; 'path args' passes a string).", AllowMultipleArgumentsPerToken = false };

    public Command Create()
    {
        _vendor.CustomParser = NamedEnum.Parse<CpuVendor>;
        _format.CustomParser = NamedEnum.Parse<ImageFormat>;
        _featureControl.CustomParser = NamedEnum.Parse<FeatureControlSetting>;
        _variant.CustomParser = ParseVariant;
        _image.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[0].Value is ['-', _, ..] token)
                result.AddError($"unknown option '{token}' (a file whose name starts with '-' can be given as ./{token})");
        });
        var command = new Command("run", "Run a guest headlessly: its serial console to stdout, its exit status as sim's.")
        {
            _image, _guest, _iterations, _floppy, _cpus, _vendor, _memory, _maxInstructions, _stats, _format, _loadAddress, _cmdline, _modules,
            _serial, _debugcon, _bios, _featureControl, _costs, _kernel, _vmm, _variant,
        };
        command.SetAction(parse => Execute(Parse(parse)));
        return command;
    }

    private RunSettings Parse(ParseResult parse)
    {
        var kernel = parse.GetValue(_kernel);
        var cpus = kernel != null && parse.GetResult(_cpus) is not { Implicit: false } ? 2 : parse.GetValue(_cpus);
        if (cpus is < 1 or > 64) throw new UserInputException($"--cpus must be between 1 and 64, not {cpus}");
        var settings = new RunSettings
        {
            ImagePath = parse.GetValue(_image),
            Guest = parse.GetValue(_guest),
            BiosPath = parse.GetValue(_bios),
            FeatureControl = parse.GetValue(_featureControl),
            Iterations = parse.GetValue(_iterations),
            Floppy = parse.GetValue(_floppy),
            Cpus = cpus,
            Vendor = parse.GetValue(_vendor),
            MemoryBytes = ParseMemory(parse.GetValue(_memory) ?? "64M"),
            MaxInstructions = parse.GetValue(_maxInstructions),
            Stats = parse.GetValue(_stats),
            Format = parse.GetValue(_format),
            LoadAddress = ParseAddress(parse.GetValue(_loadAddress)),
            CommandLine = parse.GetValue(_cmdline) ?? "",
            Modules = parse.GetValue(_modules) ?? [],
            Serial = parse.GetValue(_serial) ?? "stdout",
            DebugConsole = parse.GetValue(_debugcon) ?? "none",
            Costs = LoadCosts(parse.GetValue(_costs)),
            Kernel = kernel,
            Vmm = parse.GetValue(_vmm),
            Variant = parse.GetValue(_variant),
        };
        if (CheckKernelRun(settings, parse)) return settings;
        CheckApplicable(settings, parse);
        return settings;
    }

    /// <summary>An option that the chosen guest does not use is refused rather than silently ignored.</summary>
    private void CheckApplicable(RunSettings settings, ParseResult parse)
    {
        bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
        if (Given(_featureControl) && settings.Vendor != CpuVendor.Intel) throw new UserInputException("--feature-control applies to Intel processors only");
        if (settings.BiosPath != null)
        {
            if (settings.ImagePath != null || Given(_guest)) throw new UserInputException("--bios takes no image or --guest: the ROM boots the machine itself");
            foreach (var option in new Option[] { _floppy, _iterations, _format, _loadAddress, _cmdline, _modules, _featureControl })
            {
                if (Given(option)) throw new UserInputException($"{option.Name} does not apply with --bios: the ROM boots the machine itself");
            }
            return;
        }
        if (settings.ImagePath != null)
        {
            if (settings.Floppy) throw new UserInputException("--floppy applies to the built-in guests only; an image file boots as its format says");
            if (settings.Iterations != null) throw new UserInputException("--iterations applies to the bench32 and bench64 guests only");
            return;
        }
        foreach (var option in new Option[] { _format, _loadAddress, _cmdline, _modules })
        {
            if (Given(option)) throw new UserInputException($"{option.Name} applies to image files only, not to a built-in guest");
        }
    }

    /// <summary>A VMM on a kernel takes no guest, so every image, guest and boot option is refused; true for a kernel run.</summary>
    private bool CheckKernelRun(RunSettings settings, ParseResult parse)
    {
        bool Given(Option option) => parse.GetResult(option) is { Implicit: false };
        if (settings.Kernel == null && settings.Vmm == null)
        {
            if (Given(_variant)) throw new UserInputException("--variant applies to a --kernel --vmm run only");
            return false;
        }
        if (settings.Kernel == null) throw new UserInputException($"--vmm needs --kernel to run on ({KernelCatalog.Names(KernelCatalog.Kernels)})");
        if (settings.Vmm == null) throw new UserInputException($"--kernel needs --vmm to run ({KernelCatalog.Names(KernelCatalog.Vmms)})");
        if (!KernelCatalog.Kernels.ContainsKey(settings.Kernel)) throw new UserInputException($"unknown kernel '{settings.Kernel}'; choose one of: {KernelCatalog.Names(KernelCatalog.Kernels)}");
        if (!KernelCatalog.Vmms.TryGetValue(settings.Vmm, out var vmm)) throw new UserInputException($"unknown VMM '{settings.Vmm}'; choose one of: {KernelCatalog.Names(KernelCatalog.Vmms)}");
        if (settings.ImagePath != null) throw new UserInputException("--kernel runs a VMM, not an image: give no IMAGE");
        foreach (var option in new Option[] { _guest, _floppy, _iterations, _format, _loadAddress, _cmdline, _modules, _bios, _featureControl, _serial, _debugcon })
        {
            if (Given(option)) throw new UserInputException($"{option.Name} does not apply with --kernel: the kernel runs a VMM, not a guest");
        }
        if (settings.Cpus < vmm.MinimumCpus) throw new UserInputException($"--cpus {settings.Cpus}: the {settings.Vmm} VMM needs at least {vmm.MinimumCpus} CPUs");
        return true;
    }

    private static ToyVariant ParseVariant(ArgumentResult result)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (token == "2019") return ToyVariant.Genode1905;
        if (string.Equals(token, "current", StringComparison.OrdinalIgnoreCase)) return ToyVariant.Current;
        result.AddError($"'{token}' is not a valid value for --variant; choose one of: 2019, current");
        return ToyVariant.Current;
    }

    private static ulong ParseMemory(string text)
    {
        var bytes = SizeParser.Parse(text);
        if (bytes < Machine.MinimumMemoryBytes) throw new UserInputException($"--memory {text} is below the {Machine.MinimumMemoryBytes >> 20} MiB a PC needs here");
        if (bytes % PhysicalMemory.PageSize != 0) throw new UserInputException($"--memory {text} is not a whole number of 4 KiB pages");
        if (bytes > PhysicalMemory.MaximumRamSize) throw new UserInputException($"--memory {text} is above the {PhysicalMemory.MaximumRamSize >> 30} GiB sim supports");
        return bytes;
    }

    private static CostModel LoadCosts(string? path)
    {
        if (path == null) return CostModel.Default;
        try
        {
            return CostModel.Load(path);
        }
        catch (CostModelException e)
        {
            throw new UserInputException($"--costs: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static ulong? ParseAddress(string? text)
    {
        if (text == null) return null;
        var ok = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        if (!ok) throw new UserInputException($"cannot parse load address '{text}'");
        return value;
    }

    private int Execute(RunSettings settings)
    {
        if (settings.Kernel != null) return ExecuteKernel(settings);
        var rom = settings.BiosPath is { } bios ? ImageResolver.ReadBios(bios) : null;
        var image = rom == null ? images.Resolve(settings) : null;
        var description = image?.Description ?? $"BIOS ROM {settings.BiosPath} ({rom!.Length / 1024} KiB)";
        var inputs = settings.Modules.Select(ImageLoadOptions.ModulePath).OfType<string>().Prepend(settings.ImagePath ?? settings.BiosPath).OfType<string>();
        using var outputs = GuestOutputs.Resolve(settings.Serial, settings.DebugConsole, console, inputs);
        using var machine = Build(settings, outputs);
        try
        {
            if (image != null) machine.Load(image);
            else machine.LoadBios(rom);
        }
        catch (ImagePlacementException e)
        {
            throw new UserInputException(e.Message);
        }
        outputs.Open();
        outputs.Failed = message => machine.Stop(SimCommandLine.UsageError, message);
        var result = Run(machine);
        outputs.Flush();
        if (outputs.Failure is { } failure && result.Outcome != RunOutcome.Stopped)
            result = result with { Outcome = RunOutcome.Stopped, ExitCode = SimCommandLine.UsageError, Message = failure };
        Report(settings, description, result, machine.VmExits);
        return result.ExitCode;
    }

    private int ExecuteKernel(RunSettings settings)
    {
        using var machine = Build(settings, null);
        using var run = new KernelRun(machine, settings, console.Text);
        run.Launch();
        var result = Run(machine);
        Report(settings, run.Description, result, machine.VmExits);
        return result.ExitCode;
    }

    private static RunResult Run(Machine machine)
    {
        using (StopOn(machine, PosixSignal.SIGINT, "SIGINT", 130))
        using (StopOn(machine, PosixSignal.SIGTERM, "SIGTERM", 143))
        {
            return machine.Run();
        }
    }

    private static Machine Build(RunSettings settings, GuestOutputs? outputs)
    {
        var config = new MachineConfig
        {
            Cpus = settings.Cpus,
            Vendor = settings.Vendor,
            MemoryBytes = settings.MemoryBytes,
            MaxInstructions = settings.MaxInstructions,
            FeatureControlLocked = settings.FeatureControl == FeatureControlSetting.Locked,
            Console = outputs?.Serial ?? Stream.Null,
            DebugConsole = outputs?.DebugConsole,
            Costs = settings.Costs,
        };
        try
        {
            return new Machine(config);
        }
        catch (InsufficientMemoryException e)
        {
            throw new UserInputException($"--memory {settings.MemoryBytes >> 20}M: {e.Message}");
        }
    }

    /// <summary>A signal stops the machine at an instruction boundary, so that the run still reports and flushes; the exit status is 128 + the signal number, as a shell reports it.</summary>
    private static IDisposable? StopOn(Machine machine, PosixSignal signal, string name, int exitCode)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                machine.Stop(exitCode, $"stopped by {name}");
            });
        }
        catch (PlatformNotSupportedException)
        {
            return null;
        }
    }

    private void Report(RunSettings settings, string description, RunResult result, ulong vmExits)
    {
        if (result.Outcome is not (RunOutcome.DebugExit or RunOutcome.BochsShutdown or RunOutcome.PowerOff) && result is not { Outcome: RunOutcome.Finished, ExitCode: 0 })
            console.Error.WriteLine($"sim: {result.Message}");
        if (settings.Stats) PrintStats(description, result, vmExits);
    }

    private void PrintStats(string description, RunResult result, ulong vmExits)
    {
        var seconds = result.HostTime.TotalSeconds;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("statistic").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("image", Markup.Escape(description));
        table.AddRow("outcome", Markup.Escape($"{result.Outcome} (exit status {result.ExitCode})"));
        table.AddRow("instructions", result.Instructions.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("simulated cycles", result.Cycles.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("VM exits", vmExits.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("host seconds", seconds.ToString("F3", CultureInfo.InvariantCulture));
        table.AddRow("MIPS", (seconds > 0 ? result.Instructions / seconds / 1e6 : 0).ToString("F1", CultureInfo.InvariantCulture));
        var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(console.Error), ColorSystem = ColorSystemSupport.NoColors });
        stderr.Write(table);
    }
}
