namespace Sim.Svm;

/// <summary>
/// Modeled cycles of the world switches. The defaults split evenly the ~1,350 cycles that KVM
/// developers measured from just before VMRUN to just after the #VMEXIT of a trivial exit on an
/// AMD EPYC processor (Linux kernel mailing list, "KVM: SVM: use vmsave/vmload for saving/restoring
/// additional host state", December 2020: https://lkml.iu.edu/hypermail/linux/kernel/2012.2/00527.html).
/// </summary>
public sealed record SvmCosts(ulong VmrunCycles = 680, ulong VmexitCycles = 680)
{
    public static SvmCosts Default { get; } = new();
}
