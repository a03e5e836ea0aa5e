using System.Diagnostics;
using System.Globalization;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Differential.Tests;

/// <summary>
/// The multiprocessor guest as a Multiboot kernel on QEMU's PC machine with -smp N and on sim with N CPUs:
/// both print what the guest's definition gives, which is the same text but for the TSC-deadline line
/// (<see cref="OracleDeviations.QemuTcgHasNoTscDeadline"/>).
/// </summary>
[TestClass]
public sealed class SmpGuestQemuTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    [DataRow(8)]
    public void PrintsTheSameOnQemuAndSim(int cpus)
    {
        if (!File.Exists(QemuRunner.Binary)) Assert.Inconclusive($"QEMU is not installed ({QemuRunner.Binary}): apt-get install -y qemu-system-x86");
        var guest = new SmpGuest();
        var qemuRun = Task.Run(() => RunOnQemu(guest.ToMultibootKernel(), cpus));

        var debug = new CapturedOutput();
        RunResult sim;
        using (var machine = new Machine(new MachineConfig { Cpus = cpus, Console = Stream.Null, DebugConsole = debug, MaxInstructions = 400_000_000 }))
        {
            machine.Load(Sim.Images.ImageLoader.Load(guest.ToMultibootKernel(), "smp.elf", new Sim.Images.ImageLoadOptions()));
            sim = machine.Run();
        }

        var (exitCode, qemu, diagnostics) = qemuRun.Result;
        TestContext.WriteLine($"oracle deviation: {OracleDeviations.QemuTcgHasNoTscDeadline}");
        TestContext.WriteLine($"sim:\n{debug}\nQEMU:\n{qemu}");
        Assert.AreEqual(SmpGuest.ExpectedOutput(cpus), debug.ToString(), $"sim: {sim}");
        Assert.AreEqual(RunOutcome.BochsShutdown, sim.Outcome, sim.ToString());
        Assert.AreEqual(SmpGuest.ExpectedOutput(cpus, tscDeadline: false), qemu, diagnostics);
        Assert.AreEqual(1, exitCode, $"isa-debug-exit with 0; {diagnostics}");
    }

    private static (int ExitCode, string Output, string Diagnostics) RunOnQemu(byte[] kernel, int cpus)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sim-smp-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(file, kernel);
        try
        {
            var psi = new ProcessStartInfo(QemuRunner.Binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                "-machine", "pc", "-cpu", QemuRunner.CpuModel, "-smp", cpus.ToString(CultureInfo.InvariantCulture), "-m", "64",
                "-kernel", file, "-display", "none", "-monitor", "none", "-serial", "null", "-debugcon", "stdio",
                "-device", "isa-debug-exit,iobase=0xf4", "-no-reboot",
            })
                psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start QEMU");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return (-1, stdout.Result, $"QEMU timed out after {Timeout.TotalSeconds}s; stderr: {stderr.Result}");
            }
            return (process.ExitCode, stdout.Result, $"QEMU exit status {process.ExitCode}; stderr: {stderr.Result}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
