namespace Sim.Platform;

/// <summary>
/// How devices end a run: the exit ports and the reset lines record what happened here, and the
/// machine stops the processor that is executing the I/O instruction. The first request wins.
/// </summary>
public sealed class MachineControl
{
    public RunOutcome? Outcome { get; private set; }

    public int ExitCode { get; private set; }

    public string Message { get; private set; } = "";

    /// <summary>Set by the machine: stops the processor that runs now.</summary>
    public Action? StopRunning { get; set; }

    public bool StopRequested => Outcome != null;

    public void RequestExit(RunOutcome outcome, int exitCode, string message)
    {
        if (Outcome != null) return;
        Outcome = outcome;
        ExitCode = exitCode;
        Message = message;
        StopRunning?.Invoke();
    }

    public void RequestReset(string source) => RequestExit(RunOutcome.Reset, RunResult.ResetExitCode, $"reset by {source}");

    public void Clear()
    {
        Outcome = null;
        ExitCode = 0;
        Message = "";
    }
}
