namespace Sim.Platform;

/// <summary>
/// How a <see cref="Machine.Run"/> ended. <see cref="ExitCode"/> is the process exit status the
/// command line returns:
/// <list type="bullet">
/// <item><see cref="RunOutcome.DebugExit"/>: (V &lt;&lt; 1) | 1 for the value V written to port 0xF4, as QEMU exits;</item>
/// <item><see cref="RunOutcome.BochsShutdown"/>: 0;</item>
/// <item><see cref="RunOutcome.PowerOff"/>: 0 (<see cref="PowerOffExitCode"/>);</item>
/// <item><see cref="RunOutcome.TripleFault"/>: 4 (<see cref="TripleFaultExitCode"/>);</item>
/// <item><see cref="RunOutcome.HaltedForever"/>: 6 (<see cref="HaltedForeverExitCode"/>);</item>
/// <item><see cref="RunOutcome.InstructionLimit"/>: 8 (<see cref="InstructionLimitExitCode"/>);</item>
/// <item><see cref="RunOutcome.Reset"/>: 10 (<see cref="ResetExitCode"/>);</item>
/// <item><see cref="RunOutcome.Stopped"/>: the status given to <see cref="Machine.Stop"/>.</item>
/// </list>
/// The even codes cannot collide with a debug-exit status, which is always odd.
/// </summary>
/// <param name="Instructions">Instructions retired by all processors.</param>
/// <param name="Cycles">The simulated time at the end: the furthest processor clock, in cycles.</param>
/// <param name="HostTime">Wall-clock time the run took on the host.</param>
/// <param name="Message">One line saying what happened.</param>
public sealed record RunResult(RunOutcome Outcome, int ExitCode, ulong Instructions, ulong Cycles, TimeSpan HostTime, string Message)
{
    public const int BochsShutdownExitCode = 0;
    public const int PowerOffExitCode = 0;
    public const int TripleFaultExitCode = 4;
    public const int HaltedForeverExitCode = 6;
    public const int InstructionLimitExitCode = 8;
    public const int ResetExitCode = 10;

    public override string ToString() => $"{Outcome} (exit {ExitCode}): {Message}; {Instructions} instructions, {Cycles} cycles, {HostTime.TotalMilliseconds:F1} ms host";
}
