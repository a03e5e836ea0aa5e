namespace Sim.Differential.Tests;

/// <summary>
/// The stage of VM entry (VMRUN) that a probe line reports. The SDM fixes the order of the stages (vol. 3, 26.1: VMfailInvalid
/// and the basic checks; 26.2: controls and host state, VMfailValid(7 or 8); 26.3: guest state, exit reason 33; 26.4: the
/// MSR-load list, exit reason 34; then the guest runs), but not of the checks within 26.2 ("these checks may be performed in any
/// order") nor within 26.3.1 ("VM-entry checks on guest-state fields may be performed in any order ... different processors
/// may give different exit qualifications for the same VMCS", 26.7). The APM does not order VMRUN's consistency checks either,
/// but all of them report the same VMEXIT_INVALID.
/// </summary>
public static class ProbeOutcome
{
    public enum Stage { Invalid, BasicCheck, ControlsOrHostState, GuestState, MsrLoading, Exit, Other }

    public static Stage Of(string line) => line switch
    {
        "invalid" => Stage.Invalid,
        "valid 7" or "valid 8" => Stage.ControlsOrHostState,
        _ when line.StartsWith("valid ", StringComparison.Ordinal) => Stage.BasicCheck,
        _ when line.StartsWith("exit 80000021 ", StringComparison.Ordinal) => Stage.GuestState,
        _ when line.StartsWith("exit 80000022 ", StringComparison.Ordinal) => Stage.MsrLoading,
        _ when line.StartsWith("exit ", StringComparison.Ordinal) => Stage.Exit,
        _ => Stage.Other,
    };

    /// <summary>Whether the SDM leaves the choice among several failed checks of this stage to the processor.</summary>
    public static bool Unordered(Stage stage) => stage is Stage.ControlsOrHostState or Stage.GuestState;
}
