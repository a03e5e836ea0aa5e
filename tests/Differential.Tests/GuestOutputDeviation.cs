namespace Sim.Differential.Tests;

/// <summary>
/// A line of a built-in guest's output that a reference emulator prints differently because the
/// emulator, not sim, leaves the manual: <paramref name="Expected"/> is the line the manual gives,
/// <paramref name="Printed"/> the emulator's.
/// </summary>
public sealed record GuestOutputDeviation(string Guest, Oracle Oracle, string Expected, string Printed, string Description)
{
    /// <summary>The expected output with this line as the emulator prints it; the line must be there.</summary>
    public string ApplyTo(string expectedOutput)
    {
        var line = Expected + "\n";
        var at = expectedOutput.IndexOf(line, StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException($"the {Guest} guest's expected output has no line '{Expected}': the deviation is stale");
        return string.Concat(expectedOutput.AsSpan(0, at), Printed + "\n", expectedOutput.AsSpan(at + line.Length));
    }
}
