using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Sim.Cpu.Tests.X87;

/// <summary>
/// The host's real x87, reached through oracle/x87oracle.c: built with gcc into a temporary directory once per test run,
/// then fed a batch of requests through one process invocation.
/// </summary>
internal static class X87Oracle
{
    private static readonly Lazy<string> Executable = new(Build);

    public readonly record struct Request(string Op, ushort ControlWord, string A, string B)
    {
        public override string ToString() => $"{Op} {ControlWord:X3} {A} {B}";
    }

    public readonly record struct Response(string Result1, string Result2, ushort StatusWord);

    public static Response[] Run(IReadOnlyList<Request> requests)
    {
        var psi = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the x87 oracle");
        var writer = Task.Run(() =>
        {
            var sb = new StringBuilder(requests.Count * 64);
            foreach (var r in requests)
                sb.Append(r.ToString()).Append('\n');
            process.StandardInput.Write(sb.ToString());
            process.StandardInput.Close();
        });
        var output = process.StandardOutput.ReadToEnd();
        writer.Wait();
        process.WaitForExit();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(requests.Count, lines.Length, "the x87 oracle answered a different number of requests");
        var responses = new Response[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(3, parts.Length, $"the x87 oracle rejected request '{requests[i]}': {lines[i]}");
            responses[i] = new(parts[0], parts[1], Convert.ToUInt16(parts[2], 16));
        }
        return responses;
    }

    /// <summary>What the host left after running one sequence: where its code and data were, the data, and for a sequence that took #MF the faulting RIP and the FXSAVE image of the fault.</summary>
    public readonly record struct SequenceResult(ulong CodeAddress, ulong DataAddress, byte[] Data, ulong? FaultRip, byte[]? FaultState);

    /// <summary>Runs machine code on the host, each with RDI pointing to a copy of its data (the oracle's "sequence" mode).</summary>
    public static SequenceResult[] RunSequences(IReadOnlyList<(byte[] Code, byte[] Data)> sequences)
    {
        var psi = new ProcessStartInfo(Executable.Value, ["sequence"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the x87 oracle");
        var writer = Task.Run(() =>
        {
            var sb = new StringBuilder();
            foreach (var (code, data) in sequences)
                sb.Append(Convert.ToHexString(code)).Append(' ').Append(Convert.ToHexString(data)).Append('\n');
            process.StandardInput.Write(sb.ToString());
            process.StandardInput.Close();
        });
        var output = process.StandardOutput.ReadToEnd();
        writer.Wait();
        process.WaitForExit();
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(sequences.Count, lines.Length, $"the x87 oracle answered a different number of sequences: {output}");
        var results = new SequenceResult[lines.Length];
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            Assert.AreEqual(4, parts.Length, $"the x87 oracle rejected sequence {i}: {lines[i]}");
            var fault = parts[3] == "-" ? null : parts[3].Split(':');
            results[i] = new(Convert.ToUInt64(parts[0], 16), Convert.ToUInt64(parts[1], 16), Convert.FromHexString(parts[2]),
                fault == null ? null : Convert.ToUInt64(fault[0], 16), fault == null ? null : Convert.FromHexString(fault[1]));
        }
        return results;
    }

    private static string Build()
    {
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86))
            Assert.Fail($"The x87 oracle tests need an x86 host with a real x87; this host is {RuntimeInformation.ProcessArchitecture}.");
        var source = Path.Combine(AppContext.BaseDirectory, "X87", "oracle", "x87oracle.c");
        Assert.IsTrue(File.Exists(source), $"the oracle source is missing at {source}");
        var dir = Path.Combine(Path.GetTempPath(), $"sim-x87oracle-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        var exe = Path.Combine(dir, "x87oracle");
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
            Assert.Fail($"The x87 oracle tests need gcc on PATH to build the reference program (install Debian's gcc package): {e.Message}");
            throw;
        }
        using (gcc)
        {
            Assert.IsNotNull(gcc, "gcc did not start");
            var errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            Assert.AreEqual(0, gcc.ExitCode, $"gcc failed to build the x87 oracle:\n{errors}");
        }
        return exe;
    }
}
