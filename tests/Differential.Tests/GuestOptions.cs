namespace Sim.Differential.Tests;

/// <summary>Variations of a guest for the cases only Bochs can judge.</summary>
/// <param name="ExecuteOnlyCode">The flat 32-bit code segment is execute-only, so reads through CS fault.</param>
/// <param name="ReloadSegments">Each case starts with DS, ES, FS and SS flat again (its steps may load others).</param>
/// <param name="DebugHandler">#DB logs and resumes (<see cref="GuestBuilder.DebugLog"/>) instead of ending the case; every case starts with DR0–DR3, DR6, DR7 and CR4.DE clear.</param>
/// <param name="UserMode">Ring-3 flat segments and a TSS (32-bit protected mode); every case starts with CR0.AM set and DS, ES, FS, GS reloaded, so that cases may IRET to CPL 3.</param>
public readonly record struct GuestOptions(bool ExecuteOnlyCode, bool ReloadSegments, bool DebugHandler = false, bool UserMode = false);
