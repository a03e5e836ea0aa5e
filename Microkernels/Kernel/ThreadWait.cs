using System.Runtime.CompilerServices;

namespace Sim.Microkernels.Kernel;

/// <summary>
/// What a blocking kernel operation gives a host thread to await: complete at once with a status,
/// or parked until a waker calls <see cref="KernelThread.Wake"/>, whose status it returns. The
/// continuation runs when the thread's scheduler next runs it, on the same host thread as
/// everything else.
/// </summary>
public readonly struct ThreadWait : ICriticalNotifyCompletion
{
    private readonly HostThread? _thread;
    private readonly int _status;

    private ThreadWait(HostThread? thread, int status)
    {
        _thread = thread;
        _status = status;
    }

    /// <summary>An operation that completed without blocking.</summary>
    public static ThreadWait Completed(int status = 0) => new(null, status);

    /// <summary>An operation that blocked <paramref name="thread"/>; it must already be blocked.</summary>
    public static ThreadWait Blocked(HostThread thread) => new(thread, 0);

    public ThreadWait GetAwaiter() => this;

    public bool IsCompleted => _thread == null;

    public void OnCompleted(Action continuation) => _thread!.Park(continuation);

    public void UnsafeOnCompleted(Action continuation) => _thread!.Park(continuation);

    public int GetResult() => _thread == null ? _status : _thread.WakeStatus;
}
