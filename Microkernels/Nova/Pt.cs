namespace Sim.Microkernels.Nova;

/// <summary>A portal: an entry into a local EC with the MTD that selects what a vCPU exit through it transfers.</summary>
public sealed class Pt : KernelObject
{
    public Pt(NovaKernel kernel, Ec ec, Mtd mtd, PortalEntry entry) : base(kernel)
    {
        Ec = ec;
        Mtd = mtd;
        Entry = entry;
    }

    public Ec Ec { get; }

    public Mtd Mtd { get; }

    public PortalEntry Entry { get; }

    /// <summary>The portal id set by pt_ctrl (Genode's badge); the handler's argument.</summary>
    public ulong Id { get; internal set; }
}
