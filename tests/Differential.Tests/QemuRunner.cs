using System.Diagnostics;

namespace Sim.Differential.Tests;

/// <summary>Runs a guest on QEMU's TCG as a Multiboot kernel, headless, port E9h on stdout, exit through port F4h.</summary>
public static class QemuRunner
{
    public const string Binary = "/usr/bin/qemu-system-x86_64";

    /// <summary>
    /// qemu64 with the extensions sim announces (POPCNT, LZCNT, MOVBE, CMPXCHG16B, BMI1, BMI2, ADX)
    /// and Intel's vendor string.
    /// </summary>
    public const string CpuModel = "qemu64,vendor=GenuineIntel,+popcnt,+abm,+movbe,+cx16,+bmi1,+bmi2,+adx";

    public static void EnsureInstalled()
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException(
                $"QEMU is not installed ({Binary} is missing). The differential tests need it: apt-get install -y qemu-system-x86");
    }

    public static GuestOutput Run(Guest guest, TimeSpan timeout, string cpuModel = CpuModel)
    {
        EnsureInstalled();
        var file = Path.Combine(Path.GetTempPath(), $"sim-diff-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(file, guest.Image);
        try
        {
            var psi = new ProcessStartInfo(Binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
            {
                "-kernel", file, "-display", "none", "-monitor", "none", "-debugcon", "stdio",
                "-device", "isa-debug-exit,iobase=0xf4", "-serial", "null", "-no-reboot", "-m", "64", "-cpu", cpuModel,
            })
                psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start QEMU");
            var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                copy.Wait();
                return new GuestOutput(stdout.ToArray(), false, $"QEMU timed out after {timeout.TotalSeconds}s; stderr: {stderr.Result}");
            }
            copy.Wait();
            // The guest writes 0 to port F4h, which QEMU turns into exit status (0 << 1) | 1.
            var exited = process.ExitCode == 1;
            return new GuestOutput(stdout.ToArray(), exited, $"QEMU exit status {process.ExitCode}; stderr: {stderr.Result}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
