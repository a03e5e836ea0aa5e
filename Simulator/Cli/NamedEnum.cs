using System.CommandLine.Parsing;

namespace Sim.Cli;

/// <summary>
/// Parses an enumeration option by name only. System.CommandLine's default also takes numbers,
/// so that `--vendor 5` would build a machine of no vendor at all.
/// </summary>
public static class NamedEnum
{
    public static T Parse<T>(ArgumentResult result) where T : struct, Enum
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        foreach (var name in Enum.GetNames<T>())
        {
            if (string.Equals(name, token, StringComparison.OrdinalIgnoreCase)) return Enum.Parse<T>(name);
        }
        var option = (result.Parent as OptionResult)?.Option.Name ?? result.Argument.Name;
        result.AddError($"'{token}' is not a valid value for {option}; choose one of: {string.Join(", ", Enum.GetNames<T>())}");
        return default;
    }
}
