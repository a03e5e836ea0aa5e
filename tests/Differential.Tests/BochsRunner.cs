using System.Diagnostics;

namespace Sim.Differential.Tests;

/// <summary>
/// Runs a guest on Bochs, headless, booted from a floppy (<see cref="BochsFloppy"/>). Debian's Bochs
/// starts in its debugger, so "c" goes to its standard input; port E9h output and the debugger's
/// own messages share its standard output, so the records are the bytes after
/// <see cref="BochsFloppy.RecordsMarker"/>, as many as the guest's cases make.
/// </summary>
public static class BochsRunner
{
    public const string Binary = "/usr/bin/bochs";
    private const string Bios = "/usr/share/bochs/BIOS-bochs-latest";
    private static readonly string[] VgaBioses = ["/usr/share/bochs/VGABIOS-lgpl-latest", "/usr/share/vgabios/vgabios.bin"];

    public static void EnsureInstalled()
    {
        if (!File.Exists(Binary) || !File.Exists(Bios) || VgaBios() == null)
            throw new InvalidOperationException(
                $"Bochs is not installed ({Binary}, {Bios} or a VGA BIOS is missing). The Bochs differential tests need it: apt-get install -y bochs bochsbios vgabios");
    }

    private static string? VgaBios() => VgaBioses.FirstOrDefault(File.Exists);

    /// <summary>The CPU model with VT-x (EPT, VPID, unrestricted guest) that the differential guests run on.</summary>
    public const string IntelModel = "corei7_skylake_x";

    /// <summary>The CPU model with AMD-V and nested paging.</summary>
    public const string AmdModel = "phenom_8650_toliman";

    public static GuestOutput Run(Guest guest, TimeSpan timeout)
    {
        var run = RunFloppy(BochsFloppy.Create(guest), IntelModel, timeout);
        return new GuestOutput(Records(run.Stdout, guest.Cases.Count * guest.RecordBytes), run.Exited, run.Diagnostics);
    }

    /// <summary>What one boot of a floppy on Bochs left: its standard output (debugger messages and port E9h), whether the guest ended it through the shutdown port, and why it stopped.</summary>
    public sealed record FloppyRun(byte[] Stdout, bool Exited, string Diagnostics);

    /// <summary>Boots <paramref name="floppy"/> on Bochs with the CPU model <paramref name="cpuModel"/>.</summary>
    public static FloppyRun RunFloppy(byte[] floppy, string cpuModel, TimeSpan timeout)
    {
        EnsureInstalled();
        var directory = Directory.CreateTempSubdirectory("sim-bochs-").FullName;
        try
        {
            var image = Path.Combine(directory, "guest.img");
            File.WriteAllBytes(image, floppy);
            var config = Path.Combine(directory, "bochsrc");
            File.WriteAllText(config, $"""
                megs: 64
                cpu: model={cpuModel}, count=1
                romimage: file={Bios}
                vgaromimage: file={VgaBios()}
                floppya: 1_44={image}, status=inserted
                boot: floppy
                port_e9_hack: enabled=1
                display_library: rfb, options="timeout=0"
                log: /dev/null
                clock: sync=none
                speaker: enabled=0
                sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy

                """);
            var psi = new ProcessStartInfo(Binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            foreach (var arg in new[] { "-q", "-f", config }) psi.ArgumentList.Add(arg);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start Bochs");
            var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write("c\n");
            process.StandardInput.Close();
            var finished = process.WaitForExit(timeout);
            if (!finished)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            copy.Wait();
            var error = stderr.Result;
            // Bochs ends with status 1 even on the shutdown port; its stderr says why it stopped.
            var exited = finished && error.Contains("shutdown requested", StringComparison.Ordinal);
            var reason = finished ? Tail(error) : $"Bochs timed out after {timeout.TotalSeconds}s";
            return new FloppyRun(stdout.ToArray(), exited, $"Bochs: {reason}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// The guest's port E9h text in Bochs' standard output: it follows the debugger's echo of the
    /// "c" command and ends where the debugger reports where the simulation stopped.
    /// </summary>
    public static string DebugPortText(byte[] stdout)
    {
        const string Continue = "<bochs:1> c\n";
        const string Stopped = "(0).[";
        var text = System.Text.Encoding.Latin1.GetString(stdout);
        var start = text.IndexOf(Continue, StringComparison.Ordinal);
        if (start < 0) return "";
        start += Continue.Length;
        var end = text.LastIndexOf(Stopped, StringComparison.Ordinal);
        return end >= start ? text[start..end] : text[start..];
    }

    private static byte[] Records(byte[] stdout, int expected)
    {
        var start = stdout.AsSpan().IndexOf(BochsFloppy.RecordsMarker);
        if (start < 0) return [];
        start += BochsFloppy.RecordsMarker.Length;
        return stdout.AsSpan(start, Math.Min(expected, stdout.Length - start)).ToArray();
    }

    private static string Tail(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", lines.Where(l => !l.StartsWith("00000000000i[", StringComparison.Ordinal)).TakeLast(4));
    }
}
