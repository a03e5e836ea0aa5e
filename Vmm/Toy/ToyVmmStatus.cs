namespace Sim.Vmm.Toy;

public enum ToyVmmStatus
{
    NotStarted,

    /// <summary>Constructed; reacting to exits and timeouts.</summary>
    Running,

    /// <summary>"vmm test finished" was logged and no error line was written.</summary>
    Finished,

    /// <summary>An error line was written (the run script fails on any line containing "Error").</summary>
    Failed,
}
