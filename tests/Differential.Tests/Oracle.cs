namespace Sim.Differential.Tests;

/// <summary>The reference emulator a run compares sim against.</summary>
public enum Oracle
{
    Qemu,
    Bochs,
}
