using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Sim.Cpu.Tests;

/// <summary>
/// A reference program in C that runs on the host processor (its x87, FMA3, BMI ...): built with gcc into a temporary
/// directory once per test run, then fed a batch of request lines through one process invocation per batch.
/// </summary>
internal sealed class HostProgram
{
    private readonly string _name;
    private readonly string _source;
    private readonly string _hostRequirement;
    private readonly Architecture[] _hosts;
    private readonly Lazy<string> _executable;

    /// <param name="name">How failures name the program ("the x87 oracle").</param>
    /// <param name="source">The C source, relative to the test output directory.</param>
    /// <param name="hostRequirement">What the host must have, for the failure on another host.</param>
    public HostProgram(string name, string source, string hostRequirement, params Architecture[] hosts)
    {
        _name = name;
        _source = source;
        _hostRequirement = hostRequirement;
        _hosts = hosts;
        _executable = new(Build);
    }

    /// <summary>Writes <paramref name="input"/> to the program (started with <paramref name="arguments"/>) and returns its non-empty output lines, after it exited with status 0.</summary>
    public string[] Exchange(IEnumerable<string> input, params string[] arguments)
    {
        var psi = new ProcessStartInfo(_executable.Value, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {_name}");
        var writer = Task.Run(() =>
        {
            var sb = new StringBuilder();
            foreach (var line in input) sb.Append(line).Append('\n');
            process.StandardInput.Write(sb.ToString());
            process.StandardInput.Close();
        });
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        writer.Wait();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"{_name} failed: {errors.Result}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private string Build()
    {
        if (!_hosts.Contains(RuntimeInformation.ProcessArchitecture))
            Assert.Fail($"The tests using {_name} need {_hostRequirement}; this host is {RuntimeInformation.ProcessArchitecture}.");
        var source = Path.Combine(AppContext.BaseDirectory, _source);
        Assert.IsTrue(File.Exists(source), $"the source of {_name} is missing at {source}");
        var dir = Path.Combine(Path.GetTempPath(), $"sim-{Path.GetFileNameWithoutExtension(source)}-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        var exe = Path.Combine(dir, Path.GetFileNameWithoutExtension(source));
        var psi = new ProcessStartInfo("gcc", ["-O1", "-o", exe, source])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        Process? gcc;
        try
        {
            gcc = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"The tests using {_name} need gcc on PATH to build it (install Debian's gcc package): {e.Message}");
            throw;
        }
        using (gcc)
        {
            Assert.IsNotNull(gcc, "gcc did not start");
            var errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.AreEqual(0, gcc.ExitCode, $"gcc failed to build {_name}:\n{errors}");
        }
        return exe;
    }
}
