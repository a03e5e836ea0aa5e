using Sim.Vmm.Genode;
using static Sim.Vmm.Toy.ToyLog;

namespace Sim.Vmm.Toy.Legacy2019;

/// <summary>One vCPU of the 19.05 test: its exit handler on the 2019 API.</summary>
internal sealed class Vcpu2019
{
    private readonly Vm2019 _vm;
    private readonly VmConnection _vmCon;
    private readonly ToyLog _log;
    private readonly VmHandler<Vcpu2019> _handler;
    private readonly VmState _state;
    private readonly bool _svm;
    private readonly bool _vmx;

    private uint _exitCount;
    private uint _pauseCount;
    private uint _timerCount;
    private uint _pauseAtTimer;
    private TestState _testState = TestState.Initial;

    public Vcpu2019(IEntrypoint ep, VmConnection vmCon, ToyLog log, Vm2019 vm, bool svm, bool vmx)
    {
        _vm = vm;
        _vmCon = vmCon;
        _log = log;
        _svm = svm;
        _vmx = vmx;
        _handler = new VmHandler<Vcpu2019>(ep, this, static v => v.HandleVmException(), static (v, s, e) => v.ExitConfig(s, e));
        Id = _vmCon.CreateVcpu(_handler);
        _state = _vmCon.CpuState(Id) ?? throw new InvalidOperationException("the kernel's VM session has no state for vcpu " + Id.Id);
        _log.Log($"vcpu {Id.Id} : created");
    }

    public VcpuId Id { get; }

    public bool Halted => _testState == TestState.Halted;
    public bool Paused1st => _testState == TestState.Paused && _pauseCount == 1;
    public bool Paused2nd => _testState == TestState.Paused && _pauseCount == 2;
    public bool Paused3rd => _testState == TestState.Paused && _pauseCount == 3;
    public bool Paused4th => _testState == TestState.Paused && _pauseCount == 4;

    public void SkipInstruction(uint bytes)
    {
        _state.Clear();
        _state.Ip.SetValue(_state.Ip.Value + bytes);
    }

    public void BreakEndlessLoop() => _pauseAtTimer = _timerCount + 3;

    public bool PauseEndlessLoop()
    {
        if (_pauseAtTimer == 0 || _timerCount < _pauseAtTimer)
            return false;
        _pauseAtTimer = 0;
        return true;
    }

    public void ClaimStateUnknown() => _testState = TestState.Unknown;

    public void TimerTriggered() => _timerCount++;

    public void Dissolve() => _handler.Dissolve();

    /// <summary>The registers the handler needs per exit; NOVA turns what is touched into the portal's MTD.</summary>
    private void ExitConfig(VmState state, uint exit)
    {
        state.Ip.SetValue(0);
        if (exit is VmExitReason.IntelEpt or VmExitReason.AmdNpt or VmExitReason.AmdPf)
        {
            state.QualPrimary.SetValue(0);
            state.QualSecondary.SetValue(0);
        }
    }

    private void CpuInit()
    {
        _state.Clear();
        _state.Flags.SetValue(2);
        _state.Ip.SetValue(0xfff0);
        _state.Cr0.SetValue(0x10);
        _state.Cs.SetValue(new Segment(0xf000, 0x93, 0xffff, 0xffff0000));
        _state.Ss.SetValue(new Segment(0, 0x93, _state.Cs.Value.Limit, 0));
        _state.Dx.SetValue(0x600);
        _state.Es.SetValue(new Segment(0, _state.Ss.Value.Ar, _state.Cs.Value.Limit, 0));
        _state.Ds.SetValue(new Segment(0, _state.Ss.Value.Ar, _state.Cs.Value.Limit, 0));
        _state.Fs.SetValue(new Segment(0, _state.Ss.Value.Ar, _state.Cs.Value.Limit, 0));
        _state.Gs.SetValue(new Segment(0, _state.Ss.Value.Ar, _state.Cs.Value.Limit, 0));
        _state.Tr.SetValue(new Segment(0, 0x8b, 0xffff, 0));
        _state.Ldtr.SetValue(new Segment(0, 0x1000, _state.Tr.Value.Limit, 0));
        _state.Gdtr.SetValue(new VmState.Range(0, 0xffff));
        _state.Idtr.SetValue(new VmState.Range(0, _state.Gdtr.Value.Limit));
        _state.Dr7.SetValue(0x400);

        if (_vmx)
        {
            _state.CtrlPrimary.SetValue(ToyControls.IntelPrimaryHltExiting);
            _state.CtrlSecondary.SetValue(ToyControls.IntelSecondaryUnrestrictedGuest);
        }
        if (_svm)
            _state.CtrlSecondary.SetValue(ToyControls.AmdSecondaryVmrunIntercept);
    }

    private void HandleVmException()
    {
        uint exit = _state.ExitReason;
        _state.Clear();
        _exitCount++;

        string prefix = $"vcpu {Id.Id} : {_exitCount}. vm exit - ";
        _log.Log($"{prefix}reason {Hex(exit)} handled by '{_handler.Ep.Name}'");

        if (exit == VmExitReason.Startup)
            CpuInit();

        if (exit == VmExitReason.IntelInvalidState)
        {
            _log.Error($"{prefix} halting vCPU - invalid guest state");
            _testState = TestState.Unknown;
            return;
        }
        if (exit == VmExitReason.AmdTripleFault)
        {
            _log.Error($"{prefix} halting vCPU - triple fault");
            _testState = TestState.Unknown;
            return;
        }
        if (exit == VmExitReason.Paused)
        {
            _log.Log($"{prefix} due to pause() request - ip={Hex(_state.Ip.Value)}");
            _pauseCount++;
            _testState = TestState.Paused;
            return;
        }
        if (exit is VmExitReason.IntelHlt or VmExitReason.AmdHlt)
        {
            _log.Log($"{prefix} halting vCPU - guest called HLT - ip={Hex(_state.Ip.Value)}");
            _testState = TestState.Halted;
            return;
        }
        if (exit is VmExitReason.IntelEpt or VmExitReason.AmdNpt or VmExitReason.AmdPf)
        {
            ulong faultAddress = _state.QualSecondary.Value;
            ulong mapAddress = faultAddress & ~0xfffUL;
            _log.Log($"{prefix} guest fault address: {Hex(faultAddress)}");

            var memory = _vm.HandleGuestMemoryExit();
            if (memory is null)
            {
                _log.Error($"{prefix} halting vCPU - guest memory lookup failed");
                _testState = TestState.Unknown;
                return;
            }
            if (faultAddress != 0xffff_fff0)
            {
                _log.Error($"{prefix} unknown guest fault address");
                return;
            }
            _vmCon.Attach(memory, mapAddress);
        }

        if (_exitCount >= 5)
        {
            _log.Error($"{prefix} halting vCPU - unknown state");
            _testState = TestState.Unknown;
            return;
        }

        _log.Log($"{prefix}resume vcpu");
        _testState = TestState.Running;
        _vmCon.Run(Id);
    }
}
