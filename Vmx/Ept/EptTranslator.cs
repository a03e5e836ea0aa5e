using Sim.Cpu;
using Sim.Cpu.Memory;
using Sim.Cpu.Virtualization;

namespace Sim.Vmx.Ept;

/// <summary>
/// Translates guest-physical addresses through the EPT paging structures rooted at
/// <see cref="Eptp"/> (SDM vol. 3, 29.3): 4-level walks with read/write/execute permissions,
/// 2-MiB and 1-GiB pages, accessed and dirty flags when EPTP bit 6 enables them, the memory type,
/// and for a refused access the <see cref="LastFault"/> that the VM exit reports.
/// </summary>
public sealed class EptTranslator(PhysicalMemory memory) : IGuestPhysicalTranslator
{
    private readonly PhysicalMemory _memory = memory;

    /// <summary>The EPT pointer of the running guest (VMCS field 201AH).</summary>
    public ulong Eptp { get; set; }

    /// <summary>The refusal of the most recent <see cref="Translate"/> that returned false.</summary>
    public EptFault LastFault { get; private set; }

    /// <summary>Whether an EPTP passes the VM-entry checks of SDM vol. 3, 27.2.1.1 against <see cref="EptVpidCapability.Value"/>.</summary>
    public static bool IsValidEptp(ulong eptp) => throw new NotImplementedException();

    public bool Translate(Processor cpu, ulong guestPhysical, GuestPhysicalAccess access, ulong linear, out ulong hostPhysical)
    {
        _ = _memory;
        throw new NotImplementedException();
    }
}
