using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// The 2019 client vCPU on NOVA (Genode 19.05 <c>Vcpu</c> in base-nova's vm_session.cc): a portal
/// per exit with the MTD the handler's configuration callback asks for (exits asking nothing share a
/// portal with MTD EIP), exit_entry on the handler's entrypoint, the block/remote bookkeeping of
/// run and pause, and recall exits of an already blocked vCPU answered from the kept state.
/// </summary>
internal sealed class NovaVcpu2019
{
    private enum Remote : byte { None, Run, Pause }

    private readonly VmHandlerBase _handler;
    private bool _block = true, _dispatching, _epHandlerKnown;
    private Remote _remote;

    public NovaVcpu2019(NovaVcpuCore core, VmHandlerBase handler)
    {
        Core = core;
        _handler = handler;
        var dontCare = new List<int>();
        for (var exit = 0; exit < NovaVmSession.ExitPortals; exit++)
        {
            var mtd = PortalMtd((uint)exit);
            if (mtd == Mtd.None) dontCare.Add(exit);
            else core.ExitHandler(mtd, (ushort)exit, ExitEntry, [exit]);
        }
        if (dontCare.Count > 0) core.ExitHandler(Mtd.RipLen, 0x100, ExitEntry, dontCare);
    }

    public NovaVcpuCore Core { get; }

    public VmState State { get; } = new();

    private NovaKernel Kernel => Core.Session.Kernel;

    private Sim.Cpu.Memory.PhysicalMemory Memory => Kernel.Machine.Memory;

    /// <summary>portal_mtd: what the configuration callback touches, or everything when there is none.</summary>
    private Mtd PortalMtd(uint exit)
    {
        State.Assign(new VmState());
        if (!_handler.ConfigVmEvent(State, exit)) return NovaStateTranslation.All;
        var mtd = NovaStateTranslation.PortalMtd(State);
        State.Assign(new VmState());
        return mtd;
    }

    private bool OnHandlerEntrypoint => Core.Session.Env.CurrentEntrypoint is { } ep && ReferenceEquals(ep, Core.Ep);

    /// <summary>exit_entry, on the handler entrypoint's local EC with the exit's state in its UTCB.</summary>
    private PortalReply ExitEntry(ulong badge)
    {
        var utcb = Core.Ep.LocalEc.Utcb;
        var exit = (uint)(badge & 0xFFFF);
        var previousBlocked = _block;
        _block = true;
        if (exit == VmExitReason.Startup) _epHandlerKnown = true;
        if (exit != VmExitReason.Recall || !previousBlocked) NovaStateTranslation.Read(Memory, utcb, State, exit);

        // Pending ups of run/pause requests are consumed: this exit answers them all.
        Kernel.SmUp(Core.SmOwn);
        Kernel.SmDown(Core.SmOwn, zero: true);

        if (exit == VmExitReason.Recall)
        {
            if (previousBlocked) State.ExitReason = exit;
            if (_remote == Remote.Pause)
            {
                _remote = Remote.None;
            }
            else
            {
                if (_remote == Remote.Run)
                {
                    _remote = Remote.None;
                    if (!previousBlocked)
                    {
                        _block = false;
                        ClearReply(utcb);
                        return PortalReply.Resume;
                    }
                }
                if (previousBlocked)
                {
                    _block = false;
                    NovaStateTranslation.Write(Memory, utcb, State);
                    return PortalReply.Resume;
                }
            }
        }

        _dispatching = true;
        try
        {
            _handler.Dispatch();
        }
        finally
        {
            _dispatching = false;
        }
        if (_block)
        {
            ClearReply(utcb);
            return PortalReply.BlockOn(Core.SmOwn);
        }
        NovaStateTranslation.Write(Memory, utcb, State);
        return PortalReply.Resume;
    }

    private void ClearReply(ulong utcb)
    {
        Memory.Write(utcb + UtcbLayout.Items, 8, 0);
        Memory.Write(utcb + UtcbLayout.Mtd, 8, 0);
    }

    /// <summary>resume(): true when the vCPU has not started, so that the session's run creates its SC.</summary>
    public bool Resume()
    {
        if (!_epHandlerKnown) return true;
        if (_dispatching)
        {
            _block = false;
            return false;
        }
        var onHandler = OnHandlerEntrypoint;
        if (onHandler && !_block) return false;
        if (!onHandler) _remote = Remote.Run;
        Kernel.EcRecall(Core.EcOwn);
        Kernel.SmUp(Core.SmOwn);
        return false;
    }

    public void Pause()
    {
        if (_dispatching)
        {
            _block = true;
            return;
        }
        var onHandler = OnHandlerEntrypoint;
        if (onHandler && _block) _remote = Remote.Pause;
        if (!onHandler) _remote = Remote.Pause;
        if (!_epHandlerKnown) return;
        Kernel.EcRecall(Core.EcOwn);
        Kernel.SmUp(Core.SmOwn);
    }
}
