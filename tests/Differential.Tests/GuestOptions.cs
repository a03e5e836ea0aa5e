namespace Sim.Differential.Tests;

/// <summary>Variations of a guest for the cases only Bochs can judge.</summary>
/// <param name="ExecuteOnlyCode">The flat 32-bit code segment is execute-only, so reads through CS fault.</param>
/// <param name="ReloadSegments">Each case starts with DS, ES, FS and SS flat again (its steps may load others).</param>
/// <param name="DebugHandler">#DB logs and resumes (<see cref="GuestBuilder.DebugLog"/>) instead of ending the case; every case starts with DR0–DR3, DR6, DR7 and CR4.DE clear.</param>
public readonly record struct GuestOptions(bool ExecuteOnlyCode, bool ReloadSegments, bool DebugHandler = false);
