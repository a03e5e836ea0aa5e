using Sim.Vmm.Genode;
using static Sim.Vmm.Toy.ToyLog;

namespace Sim.Vmm.Toy.Current;

/// <summary>One vCPU of the current test: its exit handler on <c>with_state</c>.</summary>
internal sealed class VcpuCurrent : IDisposable
{
    private const ulong TscAuxMagic = 0xaffeUL << 16;
    private const ulong TscOffset = 0xff00UL << 48;

    private readonly uint _id;
    private readonly bool _svm;
    private readonly bool _vmx;
    private readonly VmCurrent _vm;
    private readonly VmConnection _vmCon;
    private readonly ToyLog _log;
    private readonly VcpuHandler<VcpuCurrent> _handler;
    private readonly VmConnection.Vcpu _vcpu;
    private readonly Func<VcpuState, bool> _handleExit;

    private TestState _testState = TestState.Initial;
    private uint _exitCount;
    private uint _pauseCount;
    private uint _hltCount;
    private uint _timerCount;
    private uint _pauseAtTimer;

    public VcpuCurrent(uint id, IEntrypoint ep, VmConnection vmCon, ToyLog log, VmCurrent vm, bool svm, bool vmx)
    {
        _id = id;
        _svm = svm;
        _vmx = vmx;
        _vm = vm;
        _vmCon = vmCon;
        _log = log;
        _handleExit = HandleExit;
        _handler = new VcpuHandler<VcpuCurrent>(ep, this, static v => v.HandleVcpuExit());
        _vcpu = new VmConnection.Vcpu(_vmCon, _handler, ExitConfig.Default);
        _log.Log($"vcpu {_id} : created");
    }

    public uint Id => _id;

    public bool Halted => _testState == TestState.Halted;
    public bool Paused1st => _testState == TestState.Paused && _pauseCount == 1;
    public bool Paused2nd => _testState == TestState.Paused && _pauseCount == 2;
    public bool Paused3rd => _testState == TestState.Paused && _pauseCount == 3;
    public bool Paused4th => _testState == TestState.Paused && _pauseCount == 4;

    public static void SkipInstruction(VcpuState state, uint bytes) => state.Ip.Charge(state.Ip.Value + bytes);

    /// <summary>Charges the FPU unchanged so that the next entry transfers it.</summary>
    public static void ForceFpuStateTransfer(VcpuState state) =>
        state.Fpu.Charge(static image => image.Length);

    public void BreakEndlessLoop() => _pauseAtTimer = _timerCount + 3;

    public bool PauseEndlessLoop()
    {
        if (_pauseAtTimer == 0 || _timerCount < _pauseAtTimer)
            return false;
        _pauseAtTimer = 0;
        return true;
    }

    public void WithState(Func<VcpuState, bool> fn) => _vcpu.WithState(fn);

    /// <summary>Stops the vCPU asynchronously: its handler is dispatched and finds it paused.</summary>
    public void RequestIntercept() => _handler.LocalSubmit();

    public void ClaimStateUnknown() => _testState = TestState.Unknown;

    public void TimerTriggered() => _timerCount++;

    public void Dispose()
    {
        _vcpu.Dispose();
        _handler.Dissolve();
    }

    private void HandleVcpuExit() => _vcpu.WithState(_handleExit);

    private bool HandleExit(VcpuState state)
    {
        uint exit = state.ExitReason;
        state.Discharge();
        _exitCount++;

        // So that all "vcpu N : created" lines come first, as on Fiasco.OC.
        if (exit == VmExitReason.Startup)
            _vm.WaitUntilReady();

        string ep = _handler.Ep.Name;
        string prefix = $"vcpu {_id} : {_exitCount}. vm exit - ";
        _log.Log($"{prefix}reason {Hex(exit)} handled by '{ep}'");

        switch (exit)
        {
            case VmExitReason.Startup:
                CpuInit(state);
                break;

            case VmExitReason.IntelInvalidState:
                _log.Error($"{prefix} halting vCPU - invalid guest state");
                _testState = TestState.Unknown;
                return false;

            case VmExitReason.AmdTripleFault:
                _log.Error($"{prefix} halting vCPU - triple fault");
                _testState = TestState.Unknown;
                return false;

            case VmExitReason.Paused:
                // vCPU 2 is resumed from its own handler after the timer requested the stop.
                if (_id == 2)
                {
                    if (Paused1st)
                    {
                        _log.Log($"{ep}     : request resume of vcpu {_id}");
                        return true;
                    }
                    if (Paused2nd)
                    {
                        _log.Log($"{ep}     : request resume of vcpu {_id}");
                        SkipInstruction(state, 1);
                        ClaimStateUnknown();
                        return true;
                    }
                }
                _log.Log($"{prefix} due to pause() request - ip={Hex(state.Ip.Value)}");
                _pauseCount++;
                _testState = TestState.Paused;
                return false;

            case VmExitReason.IntelHlt:
            case VmExitReason.AmdHlt:
                _log.Log($"{prefix} halting vCPU - guest called HLT - ip={Hex(state.Ip.Value)}");
                if (_hltCount == 0)
                {
                    uint hostTscAux = _log.Env.Rdtscp().TscAux;
                    _log.Log($"{prefix} rdtscp cx guest={Hex(state.Cx.Value)} host={Hex(hostTscAux)} dx {Hex(state.Dx.Value >> 16)}");
                }
                _testState = TestState.Halted;
                _hltCount++;
                return false;

            case VmExitReason.AmdRdtscp:
                // Intercepted where the kernel cannot turn the intercept off (Fiasco.OC): step over it.
                SkipInstruction(state, 3);
                break;

            case VmExitReason.IntelEpt:
            case VmExitReason.AmdNpt:
            case VmExitReason.AmdPf:
            {
                ulong faultAddress = state.QualSecondary.Value;
                ulong mapAddress = faultAddress & ~0xfffUL;
                _log.Log($"{prefix} guest fault address: {Hex(faultAddress)}");

                var memory = _vm.HandleGuestMemoryExit();
                if (memory is null)
                {
                    _log.Error($"{prefix} halting vCPU - guest memory lookup failed");
                    _testState = TestState.Unknown;
                    return false;
                }
                if (mapAddress != GuestCode.GuestPhysical)
                {
                    _log.Error($"{prefix} unknown guest fault address");
                    return false;
                }
                _vmCon.Attach(memory, mapAddress, AttachAttr.Default);
                break;
            }
        }

        if (_exitCount >= 5)
        {
            _log.Error($"{prefix} halting vCPU - unknown state");
            _testState = TestState.Unknown;
            return false;
        }

        _log.Log($"{prefix}resume vcpu");
        _testState = TestState.Running;
        return true;
    }

    private void CpuInit(VcpuState state)
    {
        state.Flags.Charge(2);
        state.Ip.Charge(0xfff0);
        state.Cr0.Charge(0x10);
        state.Cs.Charge(new Segment(0xf000, 0x93, 0xffff, 0xffff0000));
        state.Ss.Charge(new Segment(0, 0x93, state.Cs.Value.Limit, 0));
        state.Dx.Charge(0x600);
        state.Es.Charge(new Segment(0, state.Ss.Value.Ar, state.Cs.Value.Limit, 0));
        state.Ds.Charge(new Segment(0, state.Ss.Value.Ar, state.Cs.Value.Limit, 0));
        state.Fs.Charge(new Segment(0, state.Ss.Value.Ar, state.Cs.Value.Limit, 0));
        state.Gs.Charge(new Segment(0, state.Ss.Value.Ar, state.Cs.Value.Limit, 0));
        state.Tr.Charge(new Segment(0, 0x8b, 0xffff, 0));
        state.Ldtr.Charge(new Segment(0, 0x1000, state.Tr.Value.Limit, 0));
        // Positional, as the test writes it against Range{limit, base}: gdtr = {limit 0, base 0xffff}.
        state.Gdtr.Charge(new VcpuState.Range(0, 0xffff));
        state.Idtr.Charge(new VcpuState.Range(0, state.Gdtr.Value.Limit));
        state.Dr7.Charge(0x400);

        if (_vmx)
        {
            state.CtrlPrimary.Charge(ToyControls.IntelPrimaryHltExiting | ToyControls.IntelPrimaryUseTscOffsetting);
            state.CtrlSecondary.Charge(ToyControls.IntelSecondaryUnrestrictedGuest | ToyControls.IntelSecondaryEnableRdtscp);
        }
        if (_svm)
        {
            state.CtrlPrimary.Charge(ToyControls.AmdPrimaryHltIntercept);
            state.CtrlSecondary.Charge(ToyControls.AmdSecondaryVmrunIntercept);
        }

        // The vCPU id in TSC_AUX as operating systems keep the CPU number there, with a magic to check.
        state.TscAux.Charge(TscAuxMagic | _id);
        state.TscOffset.Charge(TscOffset);
    }
}
