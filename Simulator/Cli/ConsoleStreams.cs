namespace Sim.Cli;

/// <summary>
/// The process's standard streams: <paramref name="Output"/> takes the guest's console bytes and
/// <paramref name="Text"/> sim's own text over the same standard output (tables, help);
/// <paramref name="ErrorStream"/> takes guest bytes sent to stderr and <paramref name="Error"/>
/// sim's messages over the same standard error.
/// </summary>
public sealed record ConsoleStreams(Stream Output, Stream ErrorStream, TextWriter Text, TextWriter Error);
