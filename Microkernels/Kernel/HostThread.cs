namespace Sim.Microkernels.Kernel;

/// <summary>
/// A simulated thread of C# host software (a kernel's own thread, a Genode entrypoint, a VMM's
/// thread): an async body that runs on its processor's scheduler until it awaits a
/// <see cref="ThreadWait"/> of a kernel operation that blocks. Between two awaits it runs without
/// preemption, as code between two system calls does; the cycles it uses are what the cost model
/// charges for the operations it performs.
/// </summary>
public sealed class HostThread : KernelThread
{
    private readonly Func<Task> _body;
    private Action? _continuation;
    private Task? _task;

    public HostThread(string name, int priority, ulong quantum, Func<Task> body) : base(name, priority, quantum)
    {
        ArgumentNullException.ThrowIfNull(body);
        _body = body;
    }

    /// <summary>The exception that ended the thread's body, if one did.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Makes <paramref name="continuation"/> what runs when the thread next runs (the operation has blocked it, or made it yield).</summary>
    internal void Park(Action continuation) => _continuation = continuation;

    protected internal override void Run(ulong until)
    {
        if (_task == null)
        {
            try
            {
                _task = _body();
            }
            catch (Exception e)
            {
                // A body that throws before its first await is as faulty as one that throws later.
                _task = Task.FromException(e);
            }
        }
        else
        {
            var continuation = _continuation ?? throw new InvalidOperationException($"thread {Name} runs without a continuation");
            _continuation = null;
            continuation();
        }
        if (_task.IsCompleted)
        {
            Fault = _task.Exception?.GetBaseException();
            Kill();
            if (Fault != null) Processor!.Model.ThreadFaulted(this, Fault);
        }
        else if (State == KernelThreadState.Ready && _continuation == null)
        {
            throw new InvalidOperationException($"thread {Name} awaited something other than a kernel operation");
        }
    }
}
