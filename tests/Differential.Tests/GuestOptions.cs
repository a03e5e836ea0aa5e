namespace Sim.Differential.Tests;

/// <summary>Variations of a guest for the cases only Bochs can judge.</summary>
/// <param name="ExecuteOnlyCode">The flat 32-bit code segment is execute-only, so reads through CS fault.</param>
/// <param name="ReloadSegments">Each case starts with DS, ES, FS and SS flat again (its steps may load others).</param>
public readonly record struct GuestOptions(bool ExecuteOnlyCode, bool ReloadSegments);
