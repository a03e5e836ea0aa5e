using Sim.Vmm.Genode;

namespace Sim.Microkernels.Nova.Genode;

/// <summary>
/// A session to the timer service as Genode's NOVA timer driver implements it: a thread of its own
/// that sleeps in sm_ctrl down with an absolute TSC timeout and submits the session's signal when
/// it expires. Programming a timeout wakes it (sm up) to sleep anew.
/// </summary>
internal sealed class NovaTimerConnection : ITimerConnection
{
    /// <summary>The timer driver runs above every component, as Genode's timer does.</summary>
    public const int Priority = 100;

    private readonly NovaGenodeEnv _env;
    private readonly ulong _sm;
    private readonly ulong _start;
    private SignalContextCapability? _sigh;
    private ulong _period, _next;
    private bool _armed, _closed;

    public NovaTimerConnection(NovaGenodeEnv env)
    {
        _env = env;
        var kernel = env.Kernel;
        var core = env.CoreServices;
        _sm = core.Selectors.Allocate();
        var ec = core.Selectors.Allocate();
        var sc = core.Selectors.Allocate();
        _start = Now;
        env.Core(() =>
        {
            var root = NovaKernel.RootPdSelector;
            Check(kernel.CreateSm(_sm, root));
            Check(kernel.CreateEc(ec, root, 0, utcb: 1, eventBase: 0, global: true, entry: Loop, name: $"timer ({env.Label})"));
            Check(kernel.CreateSc(sc, root, ec, Priority));
        });
    }

    private ulong Now => _env.Kernel.Processors[0].Cpu.Cycles;

    private ulong CyclesFrom(ulong microseconds) => (ulong)((UInt128)microseconds * _env.Kernel.Machine.Config.CpuFrequencyHz / 1_000_000);

    public ulong ElapsedMicroseconds => (ulong)((UInt128)(Now - _start) * 1_000_000 / _env.Kernel.Machine.Config.CpuFrequencyHz);

    public void Sigh(SignalContextCapability context) => _sigh = context;

    public void TriggerOnce(ulong microseconds) => Program(CyclesFrom(microseconds), periodic: false);

    public void TriggerPeriodic(ulong microseconds)
    {
        if (microseconds == 0)
        {
            _armed = false;
            Wake();
            return;
        }
        Program(CyclesFrom(microseconds), periodic: true);
    }

    private void Program(ulong cycles, bool periodic)
    {
        _period = periodic ? Math.Max(1, cycles) : 0;
        _next = Now + cycles;
        _armed = true;
        Wake();
    }

    private void Wake() => _env.Core(() => _env.Kernel.SmUp(_sm));

    private async Task Loop()
    {
        var kernel = _env.Kernel;
        while (!_closed)
        {
            var cpu = kernel.Processors[0].Cpu;
            var timeout = _armed ? _next + (cpu.TimeStampCounter - cpu.Cycles) : 0;
            var status = (NovaStatus)await kernel.SmDown(_sm, timeoutTsc: Math.Max(timeout, _armed ? 1UL : 0));
            if (status != NovaStatus.Timeout || !_armed || Now < _next) continue;
            if (_period != 0) _next += _period;
            else _armed = false;
            _sigh?.Submit();
        }
    }

    public void Dispose()
    {
        _closed = true;
        _armed = false;
        Wake();
    }

    private static void Check(NovaStatus status)
    {
        if (status != NovaStatus.Success) throw new InvalidOperationException($"NOVA refused the timer: {status}");
    }
}
