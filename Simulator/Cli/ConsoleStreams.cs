namespace Sim.Cli;

/// <summary>
/// The process's standard streams: <paramref name="Output"/> takes the guest's console bytes,
/// <paramref name="ErrorStream"/> guest bytes sent to stderr, and <paramref name="Error"/> sim's own
/// messages, over the same standard error.
/// </summary>
public sealed record ConsoleStreams(Stream Output, Stream ErrorStream, TextWriter Error);
