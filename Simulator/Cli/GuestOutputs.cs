namespace Sim.Cli;

/// <summary>
/// Where a run's guest output channels go: COM1 (--serial) and port 0xE9 (--debugcon), each to
/// stdout, stderr, none or a file, as QEMU's -serial and -debugcon name them. Both channels naming
/// one file share one writer. A file that is also an input of the run is refused. Files are opened
/// by <see cref="Open"/> and truncated only once every one of them has opened, so a run that fails
/// before it starts leaves them as they were.
/// </summary>
public sealed class GuestOutputs : IDisposable
{
    private readonly List<(GuestOutput Output, string Path)> _files = [];
    private readonly List<GuestOutput> _all = [];

    private GuestOutputs()
    {
    }

    /// <summary>COM1's destination.</summary>
    public Stream Serial { get; private set; } = Stream.Null;

    /// <summary>Port 0xE9's destination.</summary>
    public Stream DebugConsole { get; private set; } = Stream.Null;

    /// <summary>The first write the host refused, as one line, or null.</summary>
    public string? Failure => _all.Select(o => o.Failure).FirstOrDefault(f => f != null);

    /// <summary>Called with the message when a write is refused.</summary>
    public Action<string>? Failed
    {
        set
        {
            foreach (var o in _all) o.Failed = value;
        }
    }

    /// <exception cref="UserInputException">A target is empty or names an input of the run.</exception>
    public static GuestOutputs Resolve(string serial, string debugConsole, ConsoleStreams console, IEnumerable<string> inputs)
    {
        var outputs = new GuestOutputs();
        var inputPaths = inputs.Select(FinalPath).ToHashSet(StringComparer.Ordinal);
        var byPath = new Dictionary<string, GuestOutput>(StringComparer.Ordinal);
        GuestOutput? stdout = null, stderr = null;
        outputs.Serial = Target(serial);
        outputs.DebugConsole = Target(debugConsole);
        return outputs;

        Stream Target(string target)
        {
            switch (target)
            {
                case "none": return Stream.Null;
                case "stdout": return stdout ??= Add(GuestOutput.Console("stdout", console.Output));
                case "stderr": return stderr ??= Add(GuestOutput.Console("stderr", console.ErrorStream));
                case "": throw new UserInputException("the guest output file name is empty (use none to discard the output)");
            }
            var path = FinalPath(target);
            if (inputPaths.Contains(path)) throw new UserInputException($"'{target}' is an input of this run and cannot take guest output");
            if (byPath.TryGetValue(path, out var shared)) return shared;
            var file = Add(GuestOutput.File($"'{target}'"));
            byPath[path] = file;
            outputs._files.Add((file, target));
            return file;
        }

        GuestOutput Add(GuestOutput output)
        {
            outputs._all.Add(output);
            return output;
        }
    }

    /// <summary>Opens the files; only when all are open are regular files among them truncated.</summary>
    /// <exception cref="UserInputException">A file cannot be opened; files this call created are removed again.</exception>
    public void Open()
    {
        var opened = new List<(GuestOutput Output, FileStream Stream, string Path, bool Created)>();
        try
        {
            foreach (var (output, path) in _files)
            {
                var existed = File.Exists(path);
                opened.Add((output, new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite, 1), path, !existed));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var failed = _files[opened.Count].Path;
            foreach (var (_, stream, path, created) in opened)
            {
                stream.Dispose();
                if (created) File.Delete(path);
            }
            throw new UserInputException($"cannot open '{failed}' for guest output: {e.Message}");
        }
        foreach (var (output, stream, _, _) in opened)
        {
            try
            {
                if (stream.CanSeek && stream.Length > 0) stream.SetLength(0);
            }
            catch (IOException)
            {
                // A device that cannot be truncated (a disk, a tty) is written from its start.
            }
            output.Attach(stream);
        }
    }

    public void Flush()
    {
        foreach (var o in _all) o.Flush();
    }

    public void Dispose()
    {
        foreach (var o in _all) o.Dispose();
    }

    /// <summary>The absolute path with symbolic links resolved, so that two names of one file compare equal.</summary>
    private static string FinalPath(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            return File.ResolveLinkTarget(full, returnFinalTarget: true)?.FullName ?? full;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return path;
        }
    }
}
