using System.Globalization;

namespace Sim.Cli;

/// <summary>Parses sizes such as 64M, 1G, 512K or 1048576 (bytes).</summary>
public static class SizeParser
{
    public static ulong Parse(string text)
    {
        var t = text.Trim();
        ulong unit = 1;
        if (t.Length > 0)
        {
            switch (char.ToUpperInvariant(t[^1]))
            {
                case 'K': unit = 1UL << 10; break;
                case 'M': unit = 1UL << 20; break;
                case 'G': unit = 1UL << 30; break;
            }
            if (unit != 1) t = t[..^1];
            else if (t.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) throw new UserInputException($"cannot parse size '{text}': use a number with an optional K, M or G suffix");
        }
        if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value == 0)
            throw new UserInputException($"cannot parse size '{text}': use a number with an optional K, M or G suffix");
        var bytes = value * unit;
        if (bytes / unit != value) throw new UserInputException($"size '{text}' is too large");
        return bytes;
    }
}
