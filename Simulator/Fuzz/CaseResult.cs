using Sim.Platform;

namespace Sim.Fuzz;

/// <summary>How one case ended: a run outcome, a rejection of its image, or a host-side failure.</summary>
/// <param name="Outcome">How <see cref="Machine.Run"/> ended, when it did.</param>
/// <param name="Rejection">The loader's <see cref="Sim.Images.ImageFormatException"/> message, an accepted end of an image case.</param>
/// <param name="Failure">The exception that escaped, the one thing that must not happen.</param>
/// <param name="Message">The run's one-line message (<see cref="RunResult.Message"/>).</param>
public sealed record CaseResult(
    FuzzCase Case,
    string Description,
    RunOutcome? Outcome,
    ulong Instructions,
    ulong Cycles,
    ulong VmExits,
    string? Rejection,
    HostFailure? Failure,
    string Message = "")
{
    /// <summary>The run ended at the harness's cycle bound (reported as <see cref="RunOutcome.InstructionLimit"/>).</summary>
    public bool CycleBound { get; init; }

    /// <summary>An exception escaped: a host-side failure.</summary>
    public bool Failed => Failure != null;

    /// <summary>What a determinism check compares: everything except host time.</summary>
    public string Fingerprint => $"{Case}|{Outcome}|{CycleBound}|{Instructions}|{Cycles}|{VmExits}|{Rejection}|{Failure?.ExceptionType}|{Failure?.Message}";

    /// <summary>One line for a failure: what escaped, where, and how to reproduce it.</summary>
    public string FailureLine => Failure == null ? "" : $"{Case.Reproduce}: {Failure}";
}
