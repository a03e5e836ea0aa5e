namespace Sim.Cli;

/// <summary>
/// One guest output channel's destination (COM1, port 0xE9) as `sim run` gives it to the machine.
/// The guest's bytes pass through unchanged, gathered until the machine flushes between quanta or
/// the buffer is full; until a stream is attached (a file
/// is opened only once the run is sure to start) they are dropped. A write the host refuses (a full device, a
/// closed pipe) does not throw into the device that made it: it is recorded in <see cref="Failure"/>,
/// reported through <see cref="Failed"/>, and later output is dropped.
/// </summary>
public sealed class GuestOutput : Stream
{
    private readonly bool _owned;
    private readonly byte[] _buffer = new byte[4096];
    private Stream? _target;
    private int _count;

    private GuestOutput(string name, Stream? target, bool owned)
    {
        Name = name;
        _target = target;
        _owned = owned;
    }

    /// <summary>A console stream that is already open and stays open after the run.</summary>
    public static GuestOutput Console(string name, Stream stream) => new(name, stream, owned: false);

    /// <summary>A file, which <see cref="Attach"/> gives once it is open; disposing this closes it.</summary>
    public static GuestOutput File(string name) => new(name, null, owned: true);

    /// <summary>How messages name the destination: stdout, stderr, or the quoted path.</summary>
    public string Name { get; }

    public string? Failure { get; private set; }

    public Action<string>? Failed { get; set; }

    public void Attach(Stream target) => _target = target;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void WriteByte(byte value)
    {
        if (Failure != null || _target == null) return;
        _buffer[_count++] = value;
        if (_count == _buffer.Length) Flush();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        foreach (var b in buffer) WriteByte(b);
    }

    public override void Flush()
    {
        if (_count == 0 || Failure != null || _target == null) return;
        try
        {
            _target.Write(_buffer, 0, _count);
            _target.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ObjectDisposedException)
        {
            Failure = $"cannot write guest output to {Name}: {e.Message}";
            Failed?.Invoke(Failure);
        }
        finally
        {
            _count = 0;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Flush();
            if (_owned)
            {
                try
                {
                    _target?.Dispose();
                }
                catch (IOException e)
                {
                    Failure ??= $"cannot write guest output to {Name}: {e.Message}";
                }
            }
            _target = null;
        }
        base.Dispose(disposing);
    }
}
