using Sim.Platform.Time;

namespace Sim.Platform.Apic;

/// <summary>
/// The APIC timer (SDM vol. 3, 11.5.4): the initial- and current-count registers and the divide
/// configuration in one-shot and periodic mode, and IA32_TSC_DEADLINE in TSC-deadline mode. The
/// timer counts simulated time: one tick of its input per cycle of the machine clock (1 GHz by
/// default, as QEMU's APIC bus), divided as the DCR says. The count is computed from the time it
/// was loaded; an event is queued only for an expiry that can interrupt, so a masked timer with a
/// short period costs nothing.
/// </summary>
public sealed partial class LocalApic
{
    private const uint TimerModeMask = 3u << 17;
    private const uint TimerPeriodic = 1u << 17;
    private const uint TimerTscDeadline = 2u << 17;

    private readonly MachineClock _clock;
    private readonly TimerEvent _timerEvent;
    private uint _initialCount;
    private uint _divideConfiguration;
    private bool _counting;
    private ulong _countStart;
    private ulong _tscDeadline;

    private uint TimerMode => _lvt[LvtTimer] & TimerModeMask;

    /// <summary>DCR bits 0, 1 and 3: 000b divides by 2 ... 110b by 128, 111b by 1.</summary>
    private ulong Divisor
    {
        get
        {
            var code = (_divideConfiguration & 3) | ((_divideConfiguration >> 1) & 4);
            return code == 7 ? 1UL : 2UL << (int)code;
        }
    }

    private ulong Period => _initialCount * Divisor;

    private uint CurrentCount
    {
        get
        {
            if (!_counting || TimerMode == TimerTscDeadline) return 0;
            var ticks = (_clock.Now - _countStart) / Divisor;
            if (TimerMode == TimerPeriodic) ticks %= _initialCount;
            return ticks >= _initialCount ? 0 : (uint)(_initialCount - ticks);
        }
    }

    private ulong TscDeadline => TimerMode == TimerTscDeadline ? _tscDeadline : 0;

    private void ResetTimer()
    {
        _clock.Cancel(_timerEvent);
        _initialCount = 0;
        _divideConfiguration = 0;
        _counting = false;
        _tscDeadline = 0;
    }

    private void WriteInitialCount(uint value)
    {
        if (TimerMode == TimerTscDeadline) return;
        _initialCount = value;
        _counting = value != 0;
        _countStart = _clock.Now;
        ArmTimer();
    }

    /// <summary>Queues the next expiry of a one-shot or periodic count, unless the LVT entry is masked (its expiries interrupt nobody).</summary>
    private void ArmTimer()
    {
        if (TimerMode == TimerTscDeadline) return;
        _clock.Cancel(_timerEvent);
        if (!_counting || (_lvt[LvtTimer] & LvtMask) != 0) return;
        var elapsed = _clock.Now - _countStart;
        var period = Period;
        if (TimerMode == TimerPeriodic) _clock.Arm(_timerEvent, _countStart + (elapsed / period + 1) * period);
        else if (elapsed < period) _clock.Arm(_timerEvent, _countStart + period);
    }

    /// <summary>A new divisor applies from now on to what is left of the count.</summary>
    private void WriteDivideConfiguration(uint value)
    {
        var remaining = CurrentCount;
        _divideConfiguration = value & 0xB;
        if (!_counting || remaining == 0) return;
        _countStart = _clock.Now - (_initialCount - remaining) * Divisor;
        ArmTimer();
    }

    /// <summary>A change into or out of TSC-deadline mode disarms the timer (SDM vol. 3, 11.5.4.1); a change of the mask or between one-shot and periodic re-arms it.</summary>
    private void TimerModeWritten(uint previous, uint current)
    {
        var before = previous & TimerModeMask;
        var after = current & TimerModeMask;
        if (before != after && (before == TimerTscDeadline || after == TimerTscDeadline))
        {
            _clock.Cancel(_timerEvent);
            _counting = false;
            _initialCount = 0;
            _tscDeadline = 0;
            return;
        }
        ArmTimer();
    }

    /// <summary>IA32_TSC_DEADLINE: armed by a non-zero value in TSC-deadline mode, firing when the TSC reaches it; ignored in the other modes.</summary>
    private void WriteTscDeadline(ulong value)
    {
        if (TimerMode != TimerTscDeadline) return;
        _clock.Cancel(_timerEvent);
        _tscDeadline = value;
        if (value == 0) return;
        var tsc = _cpu.TimeStampCounter;
        var now = _clock.Now;
        _clock.Arm(_timerEvent, value <= tsc ? now : now + (value - tsc));
    }

    private void TimerExpired(ulong time)
    {
        switch (TimerMode)
        {
            case TimerTscDeadline:
                _tscDeadline = 0;
                break;
            default:
                ArmTimer();
                break;
        }
        LocalInterrupt(LvtTimer);
    }
}
