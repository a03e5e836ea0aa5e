using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Sim.Cpu.Tests.Simd;

/// <summary>
/// The host's FMA3 and F16C instructions, reached through oracle/simdoracle.c: built with gcc into a temporary
/// directory once per test run, then fed a batch of requests through one process invocation.
/// </summary>
internal static class SimdOracle
{
    private static readonly Lazy<string> Executable = new(Build);

    /// <summary>One instruction: <paramref name="A"/> the destination (first source), <paramref name="B"/> the VEX.vvvv source (or the conversion's source), <paramref name="C"/> the r/m source.</summary>
    public readonly record struct Request(string Instruction, uint Mxcsr, ulong A, ulong B, ulong C)
    {
        public override string ToString() => $"{Instruction} {Mxcsr:x} {A:x} {B:x} {C:x}";
    }

    public readonly record struct Response(ulong Result, uint Mxcsr);

    public static Response[] Run(IReadOnlyList<Request> requests)
    {
        var psi = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the SIMD oracle");
        var writer = Task.Run(() =>
        {
            var sb = new StringBuilder(requests.Count * 64);
            foreach (var r in requests)
                sb.Append(r.ToString()).Append('\n');
            process.StandardInput.Write(sb.ToString());
            process.StandardInput.Close();
        });
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        writer.Wait();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"the SIMD oracle failed: {errors.Result}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(requests.Count, lines.Length, "the SIMD oracle answered a different number of requests");
        var responses = new Response[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(2, parts.Length, $"the SIMD oracle rejected request '{requests[i]}': {lines[i]}");
            responses[i] = new(ulong.Parse(parts[0], NumberStyles.HexNumber), uint.Parse(parts[1], NumberStyles.HexNumber));
        }
        return responses;
    }

    private static string Build()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            Assert.Fail($"The SIMD oracle tests need an x86-64 host with FMA and F16C; this host is {RuntimeInformation.ProcessArchitecture}.");
        var source = Path.Combine(AppContext.BaseDirectory, "Simd", "oracle", "simdoracle.c");
        Assert.IsTrue(File.Exists(source), $"the oracle source is missing at {source}");
        var dir = Path.Combine(Path.GetTempPath(), $"sim-simdoracle-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        var exe = Path.Combine(dir, "simdoracle");
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
            Assert.Fail($"The SIMD oracle tests need gcc on PATH to build the reference program (install Debian's gcc package): {e.Message}");
            throw;
        }
        using (gcc)
        {
            Assert.IsNotNull(gcc, "gcc did not start");
            var errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.AreEqual(0, gcc.ExitCode, $"gcc failed to build the SIMD oracle:\n{errors}");
        }
        return exe;
    }
}
