using Sim.Microkernels.Kernel;

namespace Sim.Microkernels.Nova;

/// <summary>
/// A protection domain: its object space and, once memory is delegated into its guest space or a
/// vCPU is created in it, its guest-physical space (NOVA builds EPT or nested page tables for it).
/// </summary>
public sealed class Pd : KernelObject
{
    public Pd(NovaKernel kernel, string name) : base(kernel) => Name = name;

    public string Name { get; }

    public ObjectSpace Objects { get; } = new();

    /// <summary>The vCPUs created in the PD, whose translations a change of its guest space must flush.</summary>
    public List<Ec> Vcpus { get; } = new();

    /// <summary>The guest-physical space, or null while the PD is no VM.</summary>
    public IGuestPhysicalSpace? GuestSpace { get; private set; }

    /// <summary>The VPID (VT-x) or ASID (AMD-V) that tags the guest's translations.</summary>
    public ushort Tag { get; private set; }

    public IGuestPhysicalSpace EnsureGuestSpace()
    {
        if (GuestSpace == null)
        {
            GuestSpace = Kernel.CreateGuestSpace();
            Tag = Kernel.AllocateTag();
        }
        return GuestSpace;
    }

    public override string ToString() => Name;
}
