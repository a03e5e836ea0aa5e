namespace Sim.Platform.Tracing;

/// <summary>Receives a trace stream's events in emission order, on the simulation's thread.</summary>
public interface ITraceListener
{
    void OnEvent(in TraceEvent traceEvent);
}
