using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Who runs on the processor, and how a VM exit reaches them.</summary>
public sealed partial class Processor
{
    /// <summary>
    /// Whether host software written in C# (a kernel model) owns this processor. A VM exit then
    /// ends <see cref="Run"/> with <see cref="StopReason.VmExit"/> as soon as host state is loaded;
    /// the instructions at the host RIP never run. On bare metal (false) the hypervisor is guest
    /// code and the processor goes on at the host RIP.
    /// </summary>
    public bool HostOwned { get; set; }

    /// <summary>The most recent VM exit a virtualization unit reported on this processor.</summary>
    public GuestExit LastGuestExit { get; private set; }

    /// <summary>A unit reports a VM exit once host state is loaded; on a host-owned processor this ends the slice.</summary>
    public void ReportGuestExit(in GuestExit exit)
    {
        LastGuestExit = exit;
        if (HostOwned) RequestStop(StopReason.VmExit);
    }
}
