using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sim.Cpu.Memory;
using Sim.Cpu.Registers;
using Sim.Cpu.Virtualization;

namespace Sim.Cpu;

/// <summary>Events from outside the instruction stream (SDM vol. 3, 6.7 and 10.4): INTR, NMI, INIT and SIPI, the interrupt shadow, and when they are taken.</summary>
public sealed unsafe partial class Processor
{
    private bool _interruptShadow;
    private bool _nmiPending;
    private bool _nmiBlocked;

    /// <summary>Tells the processor that its interrupt source may now assert INTR (the level is read from <see cref="InterruptSource"/>).</summary>
    public void NotifyInterrupt() => _eventsPending = true;

    /// <summary>Raises the NMI line (edge-triggered).</summary>
    public void RaiseNmi()
    {
        _nmiPending = true;
        _eventsPending = true;
    }

    private bool _initPending;
    private bool _initBlocked;
    private int _sipiVector = -1;

    /// <summary>Signals INIT (an INIT IPI, or the platform's INIT line); it is latched until the processor can take it.</summary>
    public void RaiseInit()
    {
        _initPending = true;
        _eventsPending = true;
        _stopBlock = true;
    }

    /// <summary>An INIT is latched and waits for delivery.</summary>
    public bool InitPending => _initPending;

    /// <summary>INIT stays latched while set: VMX root operation blocks it (SDM vol. 3, 24.8).</summary>
    public bool InitBlocked
    {
        get => _initBlocked;
        set
        {
            _initBlocked = value;
            _eventsPending = true;
        }
    }

    /// <summary>
    /// Signals a startup IPI with <paramref name="vector"/>. Only a processor in the wait-for-SIPI
    /// state takes it (SDM vol. 3, 9.4.4 and 10.6.1); any other discards it. An INIT latched before
    /// it that puts an application processor in that state counts: the SIPI waits behind it, as the
    /// INIT would have been taken by the time the SIPI arrived.
    /// </summary>
    public void RaiseStartupIpi(byte vector)
    {
        var afterInit = _initPending && !_initBlocked && (ApicBase & ApicBaseBsp) == 0;
        if (Activity != ActivityState.WaitForSipi && !afterInit) return;
        _sipiVector = vector;
        _eventsPending = true;
    }

    /// <summary>Whether the processor would accept a maskable interrupt now (IF set, no interrupt shadow).</summary>
    public bool InterruptsEnabled => (_flags & Rflags.IF) != 0;

    /// <summary>
    /// Sets the one-instruction interrupt shadow of STI, or of MOV SS / POP SS (<paramref name="movSs"/>),
    /// which also holds debug exceptions (SDM vol. 3, 6.8.3).
    /// </summary>
    private void ArmInterruptShadow(bool movSs)
    {
        _interruptShadow = true;
        _shadowByMovSs = movSs;
        _stopBlock = true;
    }

    /// <summary>Handles pending events at an instruction boundary; true when Run must return.</summary>
    private bool HandleEvents(out StopReason stop)
    {
        stop = default;
        _eventsPending = false;
        if (_stopRequested)
        {
            _stopRequested = false;
            stop = _requestedStop;
            _requestedStop = StopReason.StopRequested;
            return true;
        }
        if (_pendingVector >= 0) DeliverPendingException();
        // The trap of a task switch through a task gate comes before the new task's first instruction.
        if (_debugTrapStatus != 0) ReportDebugTraps();
        if ((_initPending || _sipiVector >= 0) && HandleInitAndSipi()) return false;
        if (Activity == ActivityState.Shutdown)
        {
            stop = StopReason.Shutdown;
            _eventsPending = true;
            return true;
        }
        if (Hooks != null && (_watchEventWindows || Cycles >= _eventDeadline))
        {
            if (_watchEventWindows) _eventsPending = true;
            if (Offer(new Intercept(InterceptKind.EventWindow)))
            {
                _eventsPending = true;
                _stopBlock = true;
                return false;
            }
        }
        if (_interruptShadow)
        {
            _eventsPending = true;
            return false;
        }

        // SVM's GIF holds NMI and INTR pending while clear.
        if (!_globalInterruptFlag)
        {
            if (Activity != ActivityState.Active)
            {
                stop = StopReason.Halted;
                _eventsPending = true;
                return true;
            }
            return false;
        }

        if (_nmiPending && !_nmiBlocked)
        {
            _nmiPending = false;
            if (Hooks != null && Offer(new Intercept(InterceptKind.Nmi)))
            {
                _eventsPending = true;
                return false;
            }
            _nmiBlocked = true;
            if (Activity == ActivityState.Hlt) Activity = ActivityState.Active;
            DeliverEvent(ExceptionVector.NMI, EventKind.Nmi, 0, false);
            _eventsPending = true;
            return false;
        }

        var source = InterruptSource;
        if (source != null && source.InterruptPending)
        {
            var enabled = (_flags & Rflags.IF) != 0;
            if (enabled || _interruptFlagIgnored)
            {
                if (Hooks != null && Offer(new Intercept(InterceptKind.ExternalInterrupt)))
                {
                    _eventsPending = true;
                    // A unit that holds the interrupt pending (SVM's V_INTR_MASKING with the host's IF clear) leaves HLT in effect.
                    if (Activity == ActivityState.Active) return false;
                    stop = StopReason.Halted;
                    return true;
                }
            }
            if (enabled)
            {
                var vector = source.Acknowledge();
                if (Activity == ActivityState.Hlt) Activity = ActivityState.Active;
                DeliverEvent(vector, EventKind.External, 0, false);
                _eventsPending = true;
                return false;
            }
        }

        if (Activity != ActivityState.Active)
        {
            stop = StopReason.Halted;
            _eventsPending = true;
            return true;
        }
        return false;
    }

    /// <summary>
    /// INIT, unless blocked (VMX root operation, SVM's GIF clear), then a SIPI for a processor
    /// waiting for one. Each reaches the virtualization unit first (VMX exits 3 and 4, SVM's INIT
    /// intercept); true when one was taken.
    /// </summary>
    private bool HandleInitAndSipi()
    {
        if (_initPending && !_initBlocked && _globalInterruptFlag)
        {
            _initPending = false;
            _eventsPending = true;
            if (Hooks != null && Offer(new Intercept(InterceptKind.Init))) return true;
            Init();
            return true;
        }
        if (_sipiVector >= 0 && Activity == ActivityState.WaitForSipi)
        {
            var vector = _sipiVector;
            _sipiVector = -1;
            _eventsPending = true;
            if (Hooks != null && Offer(new Intercept(InterceptKind.StartupIpi) { Vector = (byte)vector })) return true;
            SetSegment(SegmentIndex.CS, new SegmentRegister { Selector = (ushort)(vector << 8), Base = (ulong)vector << 12, Limit = 0xFFFF, Attributes = 0x9B });
            Rip = 0;
            Activity = ActivityState.Active;
            return true;
        }
        _sipiVector = -1;
        return false;
    }
}
