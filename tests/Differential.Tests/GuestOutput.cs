namespace Sim.Differential.Tests;

/// <summary>What one run of a guest produced: the bytes written to port E9h and how the run ended.</summary>
public sealed record GuestOutput(byte[] DebugPortBytes, bool Exited, string Diagnostics);
