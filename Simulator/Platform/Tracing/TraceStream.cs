namespace Sim.Platform.Tracing;

/// <summary>
/// A machine's one stream of trace events (guest entries and exits, kernel operations, thread
/// switches, IPIs, signals) for `sim step`, `sim latency` and `sim trace`. Emitters guard with
/// <c>if (stream.Enabled)</c>, so an unobserved stream costs one field test; an observed one hands
/// each event by reference to the listeners, in the order they were attached, without allocating.
/// </summary>
public sealed class TraceStream
{
    private ITraceListener[] _listeners = [];
    private readonly List<string> _names = [""];
    private readonly Dictionary<string, int> _nameIds = new(StringComparer.Ordinal) { [""] = 0 };

    /// <summary>Whether a listener is attached.</summary>
    public bool Enabled { get; private set; }

    public void Emit(in TraceEvent traceEvent)
    {
        foreach (var listener in _listeners) listener.OnEvent(in traceEvent);
    }

    public void Attach(ITraceListener listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        if (Array.IndexOf(_listeners, listener) >= 0) throw new InvalidOperationException("the listener is attached already");
        _listeners = [.. _listeners, listener];
        Enabled = true;
    }

    /// <summary>Removes <paramref name="listener"/>; returns false when it was not attached.</summary>
    public bool Detach(ITraceListener listener)
    {
        var index = Array.IndexOf(_listeners, listener);
        if (index < 0) return false;
        _listeners = [.. _listeners[..index], .. _listeners[(index + 1)..]];
        Enabled = _listeners.Length > 0;
        return true;
    }

    /// <summary>The id of <paramref name="name"/> for <see cref="TraceEvent.NameId"/>: registered once (at set-up, not per event), ids in registration order from 1.</summary>
    public int RegisterName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_nameIds.TryGetValue(name, out var id)) return id;
        id = _names.Count;
        _names.Add(name);
        _nameIds.Add(name, id);
        return id;
    }

    /// <summary>The name of <paramref name="nameId"/>, "" for 0.</summary>
    public string NameOf(int nameId) =>
        (uint)nameId < (uint)_names.Count ? _names[nameId] : throw new ArgumentOutOfRangeException(nameof(nameId), $"no trace name has id {nameId}");
}
