using Sim.Vmm.Genode;

namespace Sim.Vmm.Tests.TestDoubles;

/// <summary>A current-API vCPU: exits delivered as calls on the handler's entrypoint; <see cref="WithState"/> stops it when needed.</summary>
public sealed class FakeNativeVcpu : INativeVcpu
{
    private readonly VcpuHandlerBase _handler;
    private readonly FakeEntrypoint _ep;
    private readonly FakeGuestCpu _cpu;
    private bool _inExit;
    private bool _resume;

    public FakeNativeVcpu(FakeGuestCpu cpu, VcpuHandlerBase handler)
    {
        _cpu = cpu;
        _handler = handler;
        _ep = (FakeEntrypoint)handler.Ep;
        cpu.OnExit = (reason, gpa) => _ep.Call(() => Deliver(reason, gpa));
    }

    public VcpuState State { get; } = new();

    public int FpuLoads { get; private set; }

    public void Startup() => _cpu.Start();

    public void WithState(Func<VcpuState, bool> fn)
    {
        if (_inExit)
        {
            _resume = fn(State);
            return;
        }
        _cpu.Stop();
        ChargeCurrent(VmExitReason.Recall, 0);
        if (fn(State))
            LoadAndResume();
    }

    public void Dispose() => _cpu.Destroyed = true;

    private void Deliver(uint reason, ulong gpa)
    {
        if (_cpu.Destroyed)
            return;
        ChargeCurrent(reason, gpa);
        _inExit = true;
        _resume = false;
        _handler.Dispatch();
        _inExit = false;
        if (_resume)
            LoadAndResume();
    }

    private void ChargeCurrent(uint reason, ulong gpa)
    {
        State.Ip.Charge(_cpu.Ip);
        State.Cx.Charge(_cpu.Cx);
        State.Dx.Charge(_cpu.Dx);
        State.QualSecondary.Charge(gpa);
        State.ExitReason = reason;
    }

    private void LoadAndResume()
    {
        if (State.Ip.Charged) _cpu.Ip = State.Ip.Value;
        if (State.Cs.Charged) _cpu.CsBase = State.Cs.Value.Base;
        if (State.TscAux.Charged) _cpu.TscAux = State.TscAux.Value;
        if (State.TscOffset.Charged) _cpu.TscOffset += State.TscOffset.Value;
        if (State.Fpu.Charged) FpuLoads++;
        State.Discharge();
        _cpu.Resume();
    }
}
