namespace Sim.Platform.Time;

/// <summary>
/// A device's one re-armable alarm on the <see cref="MachineClock"/>. Arming it again replaces the
/// previous deadline, so a device never has more than one outstanding event per timer.
/// </summary>
public sealed class TimerEvent
{
    public TimerEvent(string name, Action<ulong> callback)
    {
        Name = name;
        Callback = callback;
    }

    /// <summary>For traces and messages.</summary>
    public string Name { get; }

    /// <summary>Called with the cycle the event was due at (which may be earlier than the clock's present).</summary>
    internal Action<ulong> Callback { get; }

    /// <summary>Bumped on every arm and cancel, so that queue entries of earlier deadlines are recognised as stale.</summary>
    internal ulong Generation;

    public bool Armed { get; internal set; }

    public ulong Deadline { get; internal set; }
}
