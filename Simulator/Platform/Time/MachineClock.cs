namespace Sim.Platform.Time;

/// <summary>
/// The simulated time base that devices see, in CPU cycles at <see cref="FrequencyHz"/>, and the one
/// time-ordered queue of device events. Events due at the same cycle run in the order they were armed,
/// so a run never depends on anything but its inputs.
/// </summary>
public sealed class MachineClock
{
    /// <summary>1 GHz, so that one cycle is one nanosecond.</summary>
    public const ulong DefaultFrequencyHz = 1_000_000_000;

    private readonly PriorityQueue<(TimerEvent Event, ulong Generation), (ulong Time, ulong Sequence)> _queue =
        new(Comparer<(ulong Time, ulong Sequence)>.Create((a, b) =>
            a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Sequence.CompareTo(b.Sequence)));

    private ulong _sequence;
    private ulong _manualNow;
    private ulong? _eventTime;

    public MachineClock(ulong frequencyHz = DefaultFrequencyHz)
    {
        if (frequencyHz == 0) throw new ArgumentOutOfRangeException(nameof(frequencyHz));
        FrequencyHz = frequencyHz;
    }

    /// <summary>Cycles per simulated second.</summary>
    public ulong FrequencyHz { get; }

    /// <summary>
    /// Where the present comes from while a processor runs (its own cycle clock); null means the clock
    /// only moves through <see cref="AdvanceTo"/>.
    /// </summary>
    public Func<ulong>? TimeSource { get; set; }

    /// <summary>The present: the due time of the event being delivered, else the time source, else the last <see cref="AdvanceTo"/>.</summary>
    public ulong Now => _eventTime ?? TimeSource?.Invoke() ?? _manualNow;

    /// <summary>Converts simulated nanoseconds to cycles (rounding down).</summary>
    public ulong CyclesFromNanoseconds(ulong ns) => (ulong)((UInt128)ns * FrequencyHz / 1_000_000_000);

    public void Arm(TimerEvent timer, ulong deadline)
    {
        timer.Generation++;
        timer.Armed = true;
        timer.Deadline = deadline;
        _queue.Enqueue((timer, timer.Generation), (deadline, _sequence++));
    }

    public void Cancel(TimerEvent timer)
    {
        if (!timer.Armed) return;
        timer.Generation++;
        timer.Armed = false;
    }

    /// <summary>The deadline of the earliest armed event, or null when none is armed.</summary>
    public ulong? NextDeadline
    {
        get
        {
            DropStale();
            return _queue.TryPeek(out _, out var key) ? key.Time : null;
        }
    }

    /// <summary>Delivers, in time order, every event due at or before <paramref name="time"/>; returns how many ran.</summary>
    public int RunDue(ulong time)
    {
        var count = 0;
        while (true)
        {
            DropStale();
            if (!_queue.TryPeek(out var entry, out var key) || key.Time > time) return count;
            _queue.Dequeue();
            entry.Event.Armed = false;
            var outer = _eventTime;
            _eventTime = key.Time;
            try
            {
                entry.Event.Callback(key.Time);
            }
            finally
            {
                _eventTime = outer;
            }
            count++;
        }
    }

    /// <summary>Moves the manual present to <paramref name="time"/> and delivers what fell due on the way (for tests and idle skips).</summary>
    public void AdvanceTo(ulong time)
    {
        RunDue(time);
        if (time > _manualNow) _manualNow = time;
    }

    private void DropStale()
    {
        while (_queue.TryPeek(out var entry, out _) && (!entry.Event.Armed || entry.Generation != entry.Event.Generation))
            _queue.Dequeue();
    }
}
