using System.Diagnostics;
using System.Text;

namespace Sim.Cli.Tests;

/// <summary>Runs `sim` as a user would: in this process with its standard streams captured, or as a process of its own.</summary>
internal static class SimInvocation
{
    /// <summary>In this process; standard output as bytes shown one character per byte, standard error as UTF-8.</summary>
    public static (int Exit, string Out, string Err) Invoke(params string[] args)
    {
        var output = new MemoryStream();
        var error = new MemoryStream();
        var exit = SimCommandLine.InvokeAsync(args, output, error).GetAwaiter().GetResult();
        return (exit, Encoding.Latin1.GetString(output.ToArray()), Encoding.UTF8.GetString(error.ToArray()));
    }

    /// <summary>The sim executable as a process of its own, through a shell so that its standard streams can be redirected.</summary>
    public static Process StartShell(string redirections, params string[] args)
    {
        var sim = Path.Combine(AppContext.BaseDirectory, "sim.dll");
        var command = $"exec dotnet {Quote(sim)} {string.Join(' ', args.Select(Quote))} {redirections}";
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        return Process.Start(start)!;
    }

    public static string TempFile(byte[] content, string extension)
    {
        var path = TempPath(extension);
        File.WriteAllBytes(path, content);
        return path;
    }

    public static string TempPath(string extension) => Path.Combine(Path.GetTempPath(), $"sim-cli-test-{Guid.NewGuid():N}{extension}");

    public static void AssertOneLine(string text)
    {
        var lines = text.TrimEnd('\n').Split('\n');
        Assert.AreEqual(1, lines.Length, $"expected one line on stderr, got:\n{text}");
        Assert.IsTrue(lines[0].StartsWith("sim: ", StringComparison.Ordinal), lines[0]);
        Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), "no stack trace");
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
