using System.Text;

namespace Sim.Cli;

/// <summary>
/// sim's own text on a standard stream (messages on stderr, help on stdout). A stream that is
/// closed or full must not turn a message into a crash, so a write the host refuses is dropped.
/// </summary>
public sealed class ReportWriter(Stream stream) : TextWriter
{
    private readonly StreamWriter _writer = new(stream, new UTF8Encoding(false), 1024, leaveOpen: true) { AutoFlush = true };

    public override Encoding Encoding => _writer.Encoding;

    public override void Write(char value) => Try(() => _writer.Write(value));

    public override void Write(string? value) => Try(() => _writer.Write(value));

    public override void Write(char[] buffer, int index, int count) => Try(() => _writer.Write(buffer, index, count));

    public override void WriteLine(string? value) => Try(() => _writer.WriteLine(value));

    public override void Flush() => Try(_writer.Flush);

    protected override void Dispose(bool disposing)
    {
        if (disposing) Try(_writer.Dispose);
        base.Dispose(disposing);
    }

    private static void Try(Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException)
        {
        }
    }
}
