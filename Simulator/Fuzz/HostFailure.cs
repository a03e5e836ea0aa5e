namespace Sim.Fuzz;

/// <summary>A .NET exception that escaped the simulator while it loaded or ran a case.</summary>
/// <param name="Phase">Where it escaped: "build" (the harness itself), "loader", "load" (Machine.Load) or "run" (Machine.Run).</param>
/// <param name="TopFrames">The innermost stack frames, innermost first.</param>
public sealed record HostFailure(string Phase, string ExceptionType, string Message, IReadOnlyList<string> TopFrames)
{
    private const int FrameCount = 6;

    public static HostFailure From(string phase, Exception e)
    {
        var frames = (e.StackTrace ?? "")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Take(FrameCount)
            .ToArray();
        return new HostFailure(phase, e.GetType().FullName ?? e.GetType().Name, e.Message.ReplaceLineEndings(" "), frames);
    }

    /// <summary>The innermost frame, which names the method that threw.</summary>
    public string ThrowSite => TopFrames.Count > 0 ? TopFrames[0] : "(no stack trace)";

    public override string ToString() => $"{Phase}: {ExceptionType}: {Message} {ThrowSite}";
}
