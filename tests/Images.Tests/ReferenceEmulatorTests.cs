using System.Diagnostics;
using Sim.Images.Guests;

namespace Sim.Images.Tests;

/// <summary>Boots the built-in guests' floppies on QEMU and Bochs to prove the guests themselves are correct.</summary>
[TestClass]
[TestCategory("Reference")]
public sealed class ReferenceEmulatorTests
{
    private const string Qemu = "/usr/bin/qemu-system-x86_64";
    private const string Bochs = "/usr/bin/bochs";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private string? directory;

    [TestInitialize]
    public void CreateDirectory() => directory = Directory.CreateTempSubdirectory("sim-reference-").FullName;

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(directory!, recursive: true);

    private static IEnumerable<object[]> Guests() =>
    [
        [new DemoGuest()],
        [new BenchmarkGuest(GuestMode.Protected32, 2)],
        [new BenchmarkGuest(GuestMode.Long64, 2)],
    ];

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void FloppyBootsOnQemu(BuiltInGuest guest)
    {
        RequireEmulator(Qemu);
        var floppy = WriteFloppy(guest);

        var (exitCode, output) = Run(Qemu,
            ["-display", "none", "-drive", $"file={floppy},format=raw,if=floppy", "-debugcon", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4", "-serial", "null", "-no-reboot"],
            standardInput: null);

        Assert.AreEqual(guest.ExpectedOutput(), output);
        Assert.AreEqual((0 << 1) | 1, exitCode, "isa-debug-exit with value 0");
    }

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void MultibootKernelBootsOnQemu(BuiltInGuest guest)
    {
        RequireEmulator(Qemu);
        var kernel = Path.Combine(directory!, $"{guest.Name}.elf");
        File.WriteAllBytes(kernel, guest.ToMultibootKernel());

        var (exitCode, output) = Run(Qemu,
            ["-display", "none", "-kernel", kernel, "-debugcon", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4", "-serial", "null", "-no-reboot"],
            standardInput: null);

        Assert.AreEqual(guest.ExpectedOutput(), output);
        Assert.AreEqual(1, exitCode, "isa-debug-exit with value 0");
    }

    [TestMethod]
    [DynamicData(nameof(Guests))]
    public void FloppyBootsOnBochs(BuiltInGuest guest)
    {
        RequireEmulator(Bochs);
        var floppy = WriteFloppy(guest);
        var config = Path.Combine(directory!, "bochsrc");
        File.WriteAllText(config, $"""
            megs: 64
            cpu: model=corei7_skylake_x, count=1
            romimage: file=/usr/share/bochs/BIOS-bochs-latest
            vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
            floppya: 1_44={floppy}, status=inserted
            boot: floppy
            port_e9_hack: enabled=1
            display_library: rfb, options="timeout=0"
            log: /dev/null
            clock: sync=none
            speaker: enabled=0
            sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy

            """);

        // Debian's Bochs starts in its debugger: "c" continues; port 0xE9 output goes to stdout.
        var (_, output) = Run(Bochs, ["-q", "-f", config], standardInput: "c\n");

        StringAssert.Contains(output, guest.ExpectedOutput());
    }

    private static void RequireEmulator(string path)
    {
        if (!File.Exists(path))
        {
            Assert.Inconclusive($"{path} is not installed");
        }
    }

    private string WriteFloppy(BuiltInGuest guest)
    {
        var path = Path.Combine(directory!, $"{guest.Name}.img");
        File.WriteAllBytes(path, guest.ToFloppy());
        return path;
    }

    private static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments, string? standardInput)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
        }

        process.StandardInput.Close();
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} did not finish within {Timeout}; output so far: {(output.IsCompleted ? output.Result : "")}");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
