namespace Sim.Cli;

/// <summary>Where the guest's console goes (standard output) and where sim reports (standard error).</summary>
public sealed record ConsoleStreams(TextWriter Output, TextWriter Error);
