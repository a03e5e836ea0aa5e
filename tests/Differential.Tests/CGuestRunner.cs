using System.Diagnostics;
using Sim.Images;
using Sim.Images.Guests;
using Sim.Platform;

namespace Sim.Differential.Tests;

/// <summary>
/// Runs a <see cref="CGuest"/> to its end on sim (in-process, as `sim run` does), on QEMU's TCG
/// (-cpu max, -kernel) and on Bochs (from the built-in floppy); each returns what the guest wrote
/// to port E9h, whether the run ended through the guest's exit ports, and why it stopped.
/// </summary>
public static class CGuestRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>Well above what any of the guests executes at its default size.</summary>
    private const ulong SimInstructionLimit = 500_000_000;

    public sealed record Run(string Output, bool Exited, string Diagnostics);

    /// <summary>CPUID.01H:ECX and CPUID.(EAX=07H,ECX=0):EBX of sim's processor after reset: the extensions it announces (OSXSAVE, which mirrors CR4, aside).</summary>
    public static (uint Leaf1Ecx, uint Leaf7Ebx) SimFeatures()
    {
        using var machine = new Machine(new MachineConfig());
        var cpu = machine.Processors[0];
        cpu.Cpuid(1, 0, out _, out _, out var ecx, out _);
        cpu.Cpuid(7, 0, out _, out var ebx, out _, out _);
        return (ecx, ebx);
    }

    public static Run OnSim(CGuest guest)
    {
        var debug = new CapturedOutput();
        using var machine = new Machine(new MachineConfig { DebugConsole = debug, MaxInstructions = SimInstructionLimit });
        machine.Load(ImageLoader.Load(guest.Kernel, guest.Name + ".elf", new ImageLoadOptions()));
        var result = machine.Run();
        return new Run(debug.ToString(), result.Outcome == RunOutcome.BochsShutdown, $"sim: {result}");
    }

    public static Run OnQemu(CGuest guest)
    {
        QemuRunner.EnsureInstalled();
        var file = Path.Combine(Path.GetTempPath(), $"sim-cguest-{Guid.NewGuid():N}.elf");
        File.WriteAllBytes(file, guest.Kernel);
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
                "-machine", "pc", "-cpu", "max", "-m", "64", "-kernel", file, "-display", "none", "-monitor", "none",
                "-serial", "null", "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4", "-no-reboot",
            })
                psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start QEMU");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new Run(stdout.Result, false, $"QEMU timed out after {Timeout.TotalSeconds}s; stderr: {stderr.Result}");
            }
            // guest_exit writes 0 to isa-debug-exit, which QEMU turns into exit status (0 << 1) | 1.
            return new Run(stdout.Result, process.ExitCode == 1, $"QEMU exit status {process.ExitCode}; stderr: {stderr.Result}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    public static Run OnBochs(CGuest guest)
    {
        var run = BochsRunner.RunFloppy(FloppyImage.Create(guest.Payload), BochsRunner.IntelModel, Timeout);
        return new Run(BochsRunner.DebugPortText(run.Stdout), run.Exited, run.Diagnostics);
    }
}
