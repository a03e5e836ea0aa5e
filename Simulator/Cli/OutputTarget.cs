namespace Sim.Cli;

/// <summary>Where a guest output channel goes: stdout, stderr, none, or a file, as QEMU's -serial and -debugcon name them.</summary>
public static class OutputTarget
{
    public static TextWriter Open(string target, ConsoleStreams console, List<IDisposable> owned)
    {
        switch (target)
        {
            case "stdout": return console.Output;
            case "stderr": return console.Error;
            case "none": return TextWriter.Null;
        }
        try
        {
            var writer = new StreamWriter(target, append: false) { AutoFlush = true };
            owned.Add(writer);
            return writer;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UserInputException($"cannot open '{target}' for guest output: {e.Message}");
        }
    }
}
