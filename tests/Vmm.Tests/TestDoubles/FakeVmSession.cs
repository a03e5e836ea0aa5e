using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>
/// Test double of a kernel's VM session, both API generations, following the contracts of
/// <see cref="IVmSession2019"/> and <see cref="INativeVcpu"/> the way NOVA's backends behave.
/// </summary>
public sealed class FakeVmSession(FakeMachine machine, VirtualizationKind kind) : VmSessionComponent, IVmSession2019, IVmSessionCurrent
{
    private readonly List<FakeVcpu2019> _vcpus2019 = [];
    private readonly List<FakeNativeVcpu> _vcpusCurrent = [];

    public List<(ulong GuestPhys, AttachAttr Attr)> Mapped { get; } = [];

    public List<(ulong GuestPhys, ulong Size)> Unmapped { get; } = [];

    public bool Closed { get; private set; }

    public IReadOnlyList<FakeNativeVcpu> CurrentVcpus => _vcpusCurrent;

    /// <summary>False makes every guest fetch fault, as if the kernel never mapped what the VMM attached.</summary>
    public bool MapsMemory { get; set; } = true;

    public bool ReadGuest(ulong gpa, Span<byte> bytes)
    {
        if (!MapsMemory)
            return false;
        var region = Regions.Find(gpa);
        if (region is null || Mapped.All(m => m.GuestPhys != region.Base))
            return false;
        return region.Dataspace.Read(region.Offset + (gpa - region.Base), bytes);
    }

    public VcpuId CreateVcpu(VmHandlerBase handler)
    {
        var vcpu = new FakeVcpu2019(new FakeGuestCpu(machine, this, kind), handler);
        _vcpus2019.Add(vcpu);
        return new VcpuId((uint)(_vcpus2019.Count - 1));
    }

    public void Run(VcpuId vcpu) => _vcpus2019[(int)vcpu.Id].Run();

    public void Pause(VcpuId vcpu) => _vcpus2019[(int)vcpu.Id].Pause();

    public VmState? CpuState(VcpuId vcpu) => vcpu.Id < _vcpus2019.Count ? _vcpus2019[(int)vcpu.Id].State : null;

    public INativeVcpu CreateVcpu(VcpuHandlerBase handler, ExitConfig config)
    {
        var vcpu = new FakeNativeVcpu(new FakeGuestCpu(machine, this, kind), handler);
        _vcpusCurrent.Add(vcpu);
        return vcpu;
    }

    protected override AttachResult AttachVmMemory(IRamDataspace dataspace, ulong guestPhys, AttachAttr attr)
    {
        Mapped.Add((guestPhys, attr));
        return AttachResult.Ok;
    }

    protected override void DetachVmMemory(ulong guestPhys, ulong size) => Unmapped.Add((guestPhys, size));

    public override void Dispose()
    {
        Closed = true;
        foreach (var vcpu in _vcpus2019)
            vcpu.Cpu.Destroyed = true;
        foreach (var vcpu in _vcpusCurrent)
            vcpu.Dispose();
    }
}
