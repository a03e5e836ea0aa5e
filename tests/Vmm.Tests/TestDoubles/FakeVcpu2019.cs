using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>A 2019-API vCPU: exits delivered as calls on the handler's entrypoint, resumed only by <see cref="Run"/>.</summary>
public sealed class FakeVcpu2019
{
    private readonly VmHandlerBase _handler;
    private readonly FakeEntrypoint _ep;
    private bool _started;
    private bool _inDispatch;
    private bool _resume;

    public FakeVcpu2019(FakeGuestCpu cpu, VmHandlerBase handler)
    {
        Cpu = cpu;
        _handler = handler;
        _ep = (FakeEntrypoint)handler.Ep;
        cpu.OnExit = (reason, gpa) => _ep.Call(() => Deliver(reason, gpa, fresh: true));
    }

    public FakeGuestCpu Cpu { get; }

    public VmState State { get; } = new();

    public void Run()
    {
        if (!_started)
        {
            _started = true;
            Cpu.Start();
        }
        else if (_inDispatch)
            _resume = true;
        else if (!Cpu.Running)
            LoadAndResume();
    }

    public void Pause()
    {
        if (_inDispatch)
        {
            _resume = false;
            return;
        }
        bool wasRunning = Cpu.Stop();
        _ep.Call(() => Deliver(VmExitReason.Recall, 0, fresh: wasRunning));
    }

    private void Deliver(uint reason, ulong gpa, bool fresh)
    {
        if (Cpu.Destroyed)
            return;
        if (fresh)
        {
            State.Ip.SetValue(Cpu.Ip);
            State.Cx.SetValue(Cpu.Cx);
            State.Dx.SetValue(Cpu.Dx);
            State.QualSecondary.SetValue(gpa);
        }
        State.ExitReason = reason;
        _inDispatch = true;
        _resume = false;
        _handler.Dispatch();
        _inDispatch = false;
        if (_resume)
            LoadAndResume();
    }

    private void LoadAndResume()
    {
        if (State.Ip.Valid) Cpu.Ip = State.Ip.Value;
        if (State.Cs.Valid) Cpu.CsBase = State.Cs.Value.Base;
        if (State.TscOffset.Valid) Cpu.TscOffset += State.TscOffset.Value;
        Cpu.Resume();
    }
}
