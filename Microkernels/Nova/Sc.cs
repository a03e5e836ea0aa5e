namespace Sim.Microkernels.Nova;

/// <summary>A scheduling context: the priority and quantum an EC runs with on its CPU (NOVA's Qpd).</summary>
public sealed class Sc : KernelObject
{
    public Sc(NovaKernel kernel, Ec ec, int priority, ulong quantum) : base(kernel)
    {
        Ec = ec;
        Priority = priority;
        Quantum = quantum;
    }

    public Ec Ec { get; }

    public int Priority { get; }

    /// <summary>The time slice in cycles.</summary>
    public ulong Quantum { get; }
}
