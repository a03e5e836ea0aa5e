namespace Sim.Vmm.Genode;

/// <summary>
/// A session to the timer service (Genode's legacy <c>Timer::Connection</c> interface). Timeouts are
/// delivered as signals to the context installed by <see cref="Sigh"/>, measured in simulated time.
/// </summary>
public interface ITimerConnection : IDisposable
{
    /// <summary>Installs the signal context that receives the timeouts.</summary>
    void Sigh(SignalContextCapability context);

    /// <summary>One signal after <paramref name="microseconds"/>, replacing any programmed timeout.</summary>
    void TriggerOnce(ulong microseconds);

    /// <summary>A signal every <paramref name="microseconds"/>, replacing any programmed timeout; 0 disarms.</summary>
    void TriggerPeriodic(ulong microseconds);

    /// <summary>Simulated time since the session was opened.</summary>
    ulong ElapsedMicroseconds { get; }
}
