using Sim.Vmm.Genode;

namespace Sim.Vmm.Toy.Legacy2019;

/// <summary>The VM of the 19.05 test: session, entrypoints, vCPUs, guest memory and the timer script with run/pause.</summary>
internal sealed class Vm2019 : IDisposable
{
    private const ulong TimerPeriodMicroseconds = 1000 * 1000;

    private readonly ToyLog _log;
    private readonly VmConnection _vmCon;
    private readonly IEntrypoint _epFirst;
    private readonly Vcpu2019 _vcpu0;
    private readonly Vcpu2019 _vcpu1;
    private readonly Vcpu2019 _vcpu2;
    private readonly Vcpu2019 _vcpu3;
    private readonly IRamDataspace? _memory;
    private readonly ITimerConnection _timer;
    private readonly SignalHandler<Vm2019> _timerHandler;
    private readonly SignalContextCapability _signalDestruction;

    public Vm2019(ToyLog log, IVmBackend backend, SignalContextCapability destruction)
    {
        var env = log.Env;
        _log = log;
        _vmCon = new VmConnection(env, backend);
        bool svm = env.Virtualization == VirtualizationKind.Svm;
        bool vmx = env.Virtualization == VirtualizationKind.Vmx;
        _epFirst = env.Ep;
        var epSecond = env.CreateEntrypoint("second ep", 1 % env.CpuCount);
        _vcpu0 = new Vcpu2019(_epFirst, _vmCon, log, this, svm, vmx);
        _vcpu1 = new Vcpu2019(_epFirst, _vmCon, log, this, svm, vmx);
        _vcpu2 = new Vcpu2019(epSecond, _vmCon, log, this, svm, vmx);
        _vcpu3 = new Vcpu2019(epSecond, _vmCon, log, this, svm, vmx);
        _memory = env.AllocRam(GuestCode.PageSize);
        _timer = env.OpenTimer();
        _timerHandler = new SignalHandler<Vm2019>(_epFirst, this, static vm => vm.HandleTimer());
        _signalDestruction = destruction;

        _memory?.Write(0, GuestCode.Genode1905Page());

        _log.Log("let vCPUs run - first EP");
        _vmCon.Run(_vcpu0.Id);
        _vmCon.Run(_vcpu1.Id);

        _log.Log("let vCPUs run - second EP");
        _vmCon.Run(_vcpu2.Id);
        _vmCon.Run(_vcpu3.Id);

        _timer.Sigh(_timerHandler.SignalCap);
        _timer.TriggerPeriodic(TimerPeriodMicroseconds);
    }

    /// <summary>The one dataspace this VM offers for guest memory; a real VMM would look up the faulting region.</summary>
    public IRamDataspace? HandleGuestMemoryExit() => _memory;

    public void Dispose()
    {
        _timerHandler.Dissolve();
        _timer.Dispose();
        _vcpu3.Dissolve();
        _vcpu2.Dissolve();
        _vcpu1.Dissolve();
        _vcpu0.Dissolve();
        _vmCon.Dispose();
    }

    private void HandleTimer()
    {
        _vcpu0.TimerTriggered();
        _vcpu1.TimerTriggered();
        _vcpu2.TimerTriggered();
        _vcpu3.TimerTriggered();

        string ep = _epFirst.Name;

        // vCPU 2 is handled by the second entrypoint on the other CPU: run/pause requested remotely.
        if (_vcpu2.Halted)
            _vmCon.Pause(_vcpu2.Id);

        if (_vcpu2.Paused1st)
        {
            _log.Log($"{ep}     : request resume of vcpu {_vcpu2.Id.Id}");
            _vmCon.Run(_vcpu2.Id);
        }
        else if (_vcpu2.Paused2nd)
        {
            _log.Log($"{ep}     : request resume of vcpu {_vcpu2.Id.Id}");
            _vcpu2.SkipInstruction(1);
            _vcpu2.ClaimStateUnknown();
            _vmCon.Run(_vcpu2.Id);
        }

        // vCPU 1 is handled by this entrypoint, on the same CPU.
        if (_vcpu1.PauseEndlessLoop())
        {
            _log.Log("pause endless loop");
            _vmCon.Pause(_vcpu1.Id);
            return;
        }

        if (_vcpu1.Halted)
        {
            _log.Log($"{ep}     : request pause of vcpu {_vcpu1.Id.Id}");
            _vmCon.Pause(_vcpu1.Id);
        }

        if (_vcpu1.Paused1st)
        {
            _log.Log($"{ep}     : request resume (A) of vcpu {_vcpu1.Id.Id}");
            _vmCon.Run(_vcpu1.Id);
        }
        else if (_vcpu1.Paused2nd)
        {
            _log.Log($"{ep}     : request resume (B) of vcpu {_vcpu1.Id.Id}");
            _vcpu1.SkipInstruction(2);
            _vcpu1.ClaimStateUnknown();
            _vmCon.Run(_vcpu1.Id);
            _vcpu1.BreakEndlessLoop();
        }
        else if (_vcpu1.Paused3rd)
        {
            _log.Log($"{ep}     : request resume (C) of vcpu {_vcpu1.Id.Id}");
            _vcpu1.SkipInstruction(2);
            _vmCon.Run(_vcpu1.Id);
        }
        else if (_vcpu1.Paused4th)
        {
            _log.Log("vcpu test finished - de-arm timer");
            _timer.TriggerPeriodic(0);
            _signalDestruction.Submit();
        }
    }
}
