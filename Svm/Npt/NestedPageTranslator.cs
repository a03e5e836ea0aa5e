using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Virtualization;

namespace Sim.Svm.Npt;

/// <summary>
/// Translates guest-physical addresses through the nested page tables rooted at
/// <see cref="NCr3"/> (AMD APM vol. 2, 15.25): the walk uses the host's paging mode as it was at
/// VMRUN, with permissions, accessed and dirty flags, and for a refused access the
/// <see cref="LastFault"/> that #VMEXIT(NPF) reports.
/// </summary>
public sealed class NestedPageTranslator(PhysicalMemory memory) : IGuestPhysicalTranslator
{
    private readonly PhysicalMemory _memory = memory;

    /// <summary>The nested page table base (VMCB offset 0B0h).</summary>
    public ulong NCr3 { get; set; }

    /// <summary>The refusal of the most recent <see cref="Translate"/> that returned false.</summary>
    public NestedPageFault LastFault { get; private set; }

    /// <summary>Takes the host's paging mode (CR0.WP, CR4.PAE/PSE, EFER.LMA/NXE) that the nested walk uses, as VMRUN saw it.</summary>
    public void SetHostPagingMode(ulong cr0, ulong cr4, ulong efer) => throw new NotImplementedException();

    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        _ = _memory;
        throw new NotImplementedException();
    }
}
