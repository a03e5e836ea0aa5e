using Sim.Vmm.Genode;

namespace Sim.Vmm.Toy.Current;

/// <summary>The VM of the current test: session, entrypoints, vCPUs, guest memory and the timer script with <c>with_state</c>.</summary>
internal sealed class VmCurrent : IDisposable
{
    private const ulong TimerPeriodMicroseconds = 1000 * 1000;
    private const int VcpuCount = 4;

    private readonly VmConnection _vmCon;
    private readonly IEntrypoint _epFirst;
    private readonly VcpuCurrent _vcpu0;
    private readonly VcpuCurrent _vcpu1;
    private readonly VcpuCurrent _vcpu2;
    private readonly VcpuCurrent _vcpu3;
    private readonly IRamDataspace? _memory;
    private readonly ITimerConnection _timer;
    private readonly SignalHandler<VmCurrent> _timerHandler;
    private readonly CountingSemaphore _vmmReady = new();
    private readonly SignalContextCapability _signalDestruction;
    private readonly ToyLog _log;

    public VmCurrent(ToyLog log, IVmBackend backend, SignalContextCapability destruction)
    {
        var env = log.Env;
        _log = log;
        _vmCon = new VmConnection(env, backend);
        bool svm = env.Virtualization == VirtualizationKind.Svm;
        bool vmx = env.Virtualization == VirtualizationKind.Vmx;
        _epFirst = env.Ep;
        var epSecond = env.CreateEntrypoint("second ep", 1 % env.CpuCount);
        _vcpu0 = new VcpuCurrent(0, _epFirst, _vmCon, log, this, svm, vmx);
        _vcpu1 = new VcpuCurrent(1, _epFirst, _vmCon, log, this, svm, vmx);
        _vcpu2 = new VcpuCurrent(2, epSecond, _vmCon, log, this, svm, vmx);
        _vcpu3 = new VcpuCurrent(3, epSecond, _vmCon, log, this, svm, vmx);
        _memory = env.AllocRam(GuestCode.PageSize);
        _timer = env.OpenTimer();
        _timerHandler = new SignalHandler<VmCurrent>(_epFirst, this, static vm => vm.HandleTimer());
        _signalDestruction = destruction;

        _memory?.Write(0, GuestCode.CurrentPage());

        for (int i = 0; i < VcpuCount; i++)
            _vmmReady.Up();

        _timer.Sigh(_timerHandler.SignalCap);
        _timer.TriggerPeriodic(TimerPeriodMicroseconds);
    }

    /// <summary>The one dataspace this VM offers for guest memory; a real VMM would look up the faulting region.</summary>
    public IRamDataspace? HandleGuestMemoryExit() => _memory;

    /// <summary>
    /// Genode blocks the startup exit until the VM is constructed. Construction runs to its end before
    /// any handler is dispatched, so the count is there; a missing one means a backend dispatched early.
    /// </summary>
    public void WaitUntilReady()
    {
        if (!_vmmReady.TryDown())
            _log.Error("vmm not ready when a vcpu started up");
    }

    public void Dispose()
    {
        _timerHandler.Dissolve();
        _timer.Dispose();
        _vcpu3.Dispose();
        _vcpu2.Dispose();
        _vcpu1.Dispose();
        _vcpu0.Dispose();
        _vmCon.Dispose();
    }

    private void HandleTimer()
    {
        _vcpu0.TimerTriggered();
        _vcpu1.TimerTriggered();
        _vcpu2.TimerTriggered();
        _vcpu3.TimerTriggered();

        string ep = _epFirst.Name;

        // vCPU 2 is handled by the second entrypoint on the other CPU: its handler resumes it.
        if (_vcpu2.Halted)
            _vcpu2.RequestIntercept();
        if (_vcpu2.Paused1st)
            _vcpu2.RequestIntercept();
        if (_vcpu2.Paused2nd)
            _vcpu2.RequestIntercept();

        // vCPU 1 is handled by this entrypoint, on the same CPU.
        if (_vcpu1.PauseEndlessLoop())
        {
            _log.Log("pause endless loop");
            _vcpu1.RequestIntercept();
            return;
        }

        if (_vcpu1.Halted)
        {
            _log.Log($"{ep}     : request pause of vcpu {_vcpu1.Id}");
            _vcpu1.RequestIntercept();
        }

        if (_vcpu1.Paused1st)
        {
            _log.Log($"{ep}     : request resume (A) of vcpu {_vcpu1.Id}");
            _vcpu1.WithState(static state =>
            {
                state.Discharge();
                VcpuCurrent.ForceFpuStateTransfer(state);
                return true;
            });
        }
        else if (_vcpu1.Paused2nd)
        {
            _log.Log($"{ep}     : request resume (B) of vcpu {_vcpu1.Id}");
            var vcpu1 = _vcpu1;
            _vcpu1.WithState(state =>
            {
                state.Discharge();
                VcpuCurrent.SkipInstruction(state, 2);
                vcpu1.ClaimStateUnknown();
                return true;
            });
            _vcpu1.BreakEndlessLoop();
        }
        else if (_vcpu1.Paused3rd)
        {
            _log.Log($"{ep}     : request resume (C) of vcpu {_vcpu1.Id}");
            _vcpu1.WithState(static state =>
            {
                state.Discharge();
                VcpuCurrent.SkipInstruction(state, 2);
                return true;
            });
        }
        else if (_vcpu1.Paused4th)
        {
            _log.Log("vcpu test finished - de-arm timer");
            _timer.TriggerPeriodic(0);
            _signalDestruction.Submit();
        }
    }
}
