using System.Globalization;

namespace Sim.Differential.Tests;

/// <summary>
/// What a probe guest printed: its header lines (the capability MSRs, "cap ..."), one line per case by index
/// (what follows "INDEX "), and whether it reached "done".
/// </summary>
public sealed record ProbeOutput(IReadOnlyList<string> Header, IReadOnlyDictionary<int, string> Lines, bool Done, string Text)
{
    public static ProbeOutput Parse(string text)
    {
        var header = new List<string>();
        var lines = new Dictionary<int, string>();
        var done = false;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line == "done") done = true;
            else if (line.StartsWith("cap ", StringComparison.Ordinal)) header.Add(line);
            else if (line.IndexOf(' ') is > 0 and var space && int.TryParse(line.AsSpan(0, space), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var index))
                lines[index] = line[(space + 1)..];
            else header.Add(line);
        }
        return new ProbeOutput(header, lines, done, text);
    }

    public string Line(int index) => Lines.TryGetValue(index, out var line) ? line : "(none)";

    /// <summary>The value of a capability MSR the probe printed, or null.</summary>
    public ulong? Capability(int msr)
    {
        var prefix = $"cap {msr:x} ";
        var line = Header.FirstOrDefault(h => h.StartsWith(prefix, StringComparison.Ordinal));
        return line == null ? null : ulong.Parse(line.AsSpan(prefix.Length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }
}
