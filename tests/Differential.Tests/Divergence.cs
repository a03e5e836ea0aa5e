namespace Sim.Differential.Tests;

/// <summary>One part of a case's final state on which sim and a reference emulator disagree where the SDM defines it.</summary>
public sealed record Divergence(TestCase Case, string Field, ulong Sim, ulong Reference, Oracle Oracle = Oracle.Qemu);
