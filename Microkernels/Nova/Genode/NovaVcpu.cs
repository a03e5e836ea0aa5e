using System.Diagnostics;
using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// The current client vCPU on NOVA (Genode's <c>Nova_vcpu</c> in base-nova's vm.cc): every exit
/// portal carries the full MTD; an exit is read into the vCPU state, dispatched on the handler's
/// entrypoint, written back, and the reply resumes the vCPU or blocks it on its semaphore as the
/// last with_state decided. with_state outside an exit uses ec_ctrl GET_VCPU_STATE and
/// SET_VCPU_STATE; the recall exit that access leaves behind is answered without dispatch.
/// </summary>
internal sealed class NovaVcpu : INativeVcpu
{
    private readonly VcpuHandlerBase _handler;
    private bool _dispatching, _resume, _lastResume, _destroyed;

    public NovaVcpu(NovaVcpuCore core, VcpuHandlerBase handler, ExitConfig config)
    {
        Core = core;
        _handler = handler;
        // As Genode's: every portal carries the full MTD, whatever the exit configuration asks to omit ("TODO define and implement omissions").
        core.ExitHandler(Mtd.RipLen, 0x100, ExitEntry, []);
        for (var exit = 0; exit < NovaVmSession.ExitPortals; exit++)
            core.ExitHandler(NovaStateTranslation.CurrentPortalMtd, (ushort)exit, ExitEntry, [exit]);
    }

    public NovaVcpuCore Core { get; }

    public VcpuState State { get; } = new();

    private NovaKernel Kernel => Core.Session.Kernel;

    private Sim.Cpu.Memory.PhysicalMemory Memory => Kernel.Machine.Memory;

    public void Startup() => Core.Startup();

    /// <summary>_exit_entry: the portal is this vCPU's own, so the badge names it; the exit reason comes from the UTCB's exit_value.</summary>
    private PortalReply ExitEntry(ulong badge)
    {
        Debug.Assert(badge >> 16 == Core.Id);
        var utcb = Core.Ep.LocalEc.Utcb;
        if (Memory.Read(utcb + UtcbLayout.ExitValue, 8) == VmExitReason.Recall)
        {
            // Only a with_state from outside an exit recalls the vCPU, and it has done its work already.
            Memory.Write(utcb + UtcbLayout.Mtd, 8, 0);
            Memory.Write(utcb + UtcbLayout.Items, 8, 0);
        }
        else
        {
            NovaStateTranslation.Read(Memory, utcb, State);
            _dispatching = true;
            try
            {
                _handler.Dispatch();
            }
            finally
            {
                _dispatching = false;
            }
            NovaStateTranslation.Write(Memory, utcb, State);
        }
        _lastResume = _resume;
        return _resume ? PortalReply.Resume : PortalReply.BlockOn(Core.SmOwn);
    }

    public void WithState(Func<VcpuState, bool> fn)
    {
        ArgumentNullException.ThrowIfNull(fn);
        if (_destroyed) return;
        var remote = !_dispatching;
        var utcb = Kernel.CurrentEc.Utcb;
        if (remote)
        {
            if (Core.Session.Env.CurrentEntrypoint is not { } ep || !ReferenceEquals(ep, Core.Ep))
            {
                Core.Session.Env.Error("vCPU state requested outside of vcpu_handler EP");
                return;
            }
            var got = Kernel.EcGetVcpuState(Core.EcOwn, NovaStateTranslation.CurrentPortalMtd);
            if (got != NovaStatus.Success)
            {
                Core.Session.Env.Error($"Getting vCPU state failed with: {(int)got}");
                return;
            }
            NovaStateTranslation.Read(Memory, utcb, State);
        }
        _resume = fn(State);
        if (!remote) return;
        NovaStateTranslation.Write(Memory, utcb, State);
        // A recall stops a running vCPU, or gets a stopped one to resume.
        var recall = !(_resume && _lastResume);
        var set = Kernel.EcSetVcpuState(Core.EcOwn, recall);
        if (set != NovaStatus.Success)
        {
            Core.Session.Env.Error($"Setting vCPU state failed with: {(int)set}");
            return;
        }
        if (_resume) Kernel.SmUp(Core.SmOwn);
    }

    public void Dispose()
    {
        if (_destroyed) return;
        _destroyed = true;
        Core.Destroy();
    }
}
