namespace Sim.Platform.Tracing;

/// <summary>Keeps every event it receives, in order.</summary>
public sealed class RecordingTraceListener : ITraceListener
{
    private readonly List<TraceEvent> _events = [];

    public IReadOnlyList<TraceEvent> Events => _events;

    public void OnEvent(in TraceEvent traceEvent) => _events.Add(traceEvent);

    public void Clear() => _events.Clear();
}
