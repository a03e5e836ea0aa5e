namespace Sim.Vmm.Toy;

/// <summary>What the test knows of a vCPU, to steer its timer script.</summary>
internal enum TestState
{
    Initial,
    Halted,
    Paused,
    Unknown,
    Running,
}
