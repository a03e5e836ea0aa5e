using System.Diagnostics;

namespace Sim.Platform.Tests.Firmware;

/// <summary>Runs a reference tool from Debian's packages; a missing tool makes the test inconclusive.</summary>
internal static class Tool
{
    public static string Require(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path)) return path;
        }
        Assert.Inconclusive($"{name} is not installed");
        return name;
    }

    public static (int ExitCode, string Output) Run(string tool, string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var psi = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {tool}");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{tool} timed out after {timeout.TotalSeconds}s");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
