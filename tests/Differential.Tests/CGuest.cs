using System.Diagnostics;

namespace Sim.Differential.Tests;

/// <summary>
/// One of the freestanding C guests of Images/Guests/C, built with the host's gcc by their build
/// script: the Multiboot ELF32 kernel that sim and QEMU load, and the flat image that the built-in
/// floppy boot sector loads for Bochs.
/// </summary>
public sealed record CGuest(string Name, byte[] Kernel, byte[] Payload)
{
    private static readonly Lazy<string> Directory = new(BuildAll);

    /// <summary>The C guests, each compiled with the options its build script gives it.</summary>
    public static readonly string[] Names = ["matmul", "mandelbrot", "fft", "x87", "crc32c", "avx2fma"];

    /// <summary>The guest <paramref name="name"/>, from one build of all of them per test run.</summary>
    public static CGuest Get(string name)
    {
        var directory = Directory.Value;
        return new CGuest(name, File.ReadAllBytes(Path.Combine(directory, name + ".elf")), File.ReadAllBytes(Path.Combine(directory, name + ".bin")));
    }

    private static string BuildAll()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "CGuests", "build");
        Assert.IsTrue(File.Exists(script), $"the C guests' build script is missing at {script}");
        var directory = Path.Combine(Path.GetTempPath(), $"sim-cguests-{Environment.ProcessId}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { System.IO.Directory.Delete(directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        var psi = new ProcessStartInfo("bash", [script, directory, .. Names])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        Process? build;
        try
        {
            build = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"The C guest tests need bash, gcc and binutils (Debian's gcc package): {e.Message}");
            throw;
        }
        using (build)
        {
            Assert.IsNotNull(build, "the build script did not start");
            var output = build.StandardOutput.ReadToEndAsync();
            var errors = build.StandardError.ReadToEnd();
            build.WaitForExit();
            Assert.AreEqual(0, build.ExitCode, $"building the C guests failed (they need gcc and binutils):\n{output.Result}{errors}");
        }
        return directory;
    }
}
