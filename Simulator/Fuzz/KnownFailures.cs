namespace Sim.Fuzz;

/// <summary>
/// Host-side failures already reported and not fixed yet, recognised by where they are thrown, so
/// that a run reports them apart from new ones. Remove an entry once its fix is merged.
/// </summary>
public static class KnownFailures
{
    private static readonly (string Name, Func<HostFailure, bool> Matches)[] Entries =
    [
        ("image chunk in the platform area at the top of RAM",
            f => f.ExceptionType == typeof(InvalidOperationException).FullName && f.ThrowSite.Contains("Machine.CheckPlatformArea", StringComparison.Ordinal)),
    ];

    /// <summary>The name of the known failure <paramref name="failure"/> is, or null for a new one.</summary>
    public static string? Match(HostFailure failure)
    {
        foreach (var (name, matches) in Entries)
            if (matches(failure)) return name;
        return null;
    }
}
