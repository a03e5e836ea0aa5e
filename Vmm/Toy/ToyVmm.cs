using Sim.Vmm.Genode;
using Sim.Vmm.Toy.Current;
using Sim.Vmm.Toy.Legacy2019;

namespace Sim.Vmm.Toy;

/// <summary>
/// The toy VMM: Genode's VMM unit test (<c>repos/os/src/test/vmm_x86</c>) as a component on the
/// kernel-agnostic VM library. One VM with four vCPUs on two entrypoints ("ep" on CPU 0 for vCPU 0/1,
/// "second ep" on CPU 1 for vCPU 2/3), a 4 KiB guest page attached on the first memory exit, and a 1 s
/// periodic timer that pauses and resumes vCPU 1 and 2. It references no kernel: the backend comes from
/// whatever <see cref="IVmBackend"/> the composition root registered.
/// </summary>
public sealed class ToyVmm(IVmBackend backend, ToyVariant variant) : IComponent
{
    private readonly List<string> _errors = [];
    private ToyLog? _log;
    private SignalHandler<ToyVmm>? _destructHandler;
    private IDisposable? _vm;

    public ToyVariant Variant { get; } = variant;

    public ToyVmmStatus Status { get; private set; } = ToyVmmStatus.NotStarted;

    /// <summary>The error messages written so far.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>Raised on every change of <see cref="Status"/>, on the entrypoint that caused it.</summary>
    public event Action<ToyVmm>? StatusChanged;

    /// <summary>Constructs a toy VMM in <paramref name="env"/> (for runners that do not use DI).</summary>
    public static ToyVmm Start(IGenodeEnv env, IVmBackend backend, ToyVariant variant)
    {
        var vmm = new ToyVmm(backend, variant);
        vmm.Construct(env);
        return vmm;
    }

    public void Construct(IGenodeEnv env)
    {
        if (Status != ToyVmmStatus.NotStarted)
            return;
        _log = new ToyLog(env, this);
        SetStatus(ToyVmmStatus.Running);
        _destructHandler = new SignalHandler<ToyVmm>(env.Ep, this, static m => m.Destruct());

        if (env.Virtualization == VirtualizationKind.None)
        {
            _log.Error("no SVM nor VMX support detected");
            return;
        }
        try
        {
            _vm = Variant == ToyVariant.Genode1905
                ? new Vm2019(_log, backend, _destructHandler.SignalCap)
                : new VmCurrent(_log, backend, _destructHandler.SignalCap);
        }
        catch (InvalidOperationException e)
        {
            _log.Error(e.Message);
        }
    }

    internal void ReportError(string message)
    {
        _errors.Add(message);
        SetStatus(ToyVmmStatus.Failed);
    }

    private void Destruct()
    {
        _log!.Log("destruct vm session");
        _vm?.Dispose();
        _vm = null;
        _log.Log("vmm test finished");
        if (Status == ToyVmmStatus.Running)
            SetStatus(ToyVmmStatus.Finished);
    }

    private void SetStatus(ToyVmmStatus status)
    {
        if (Status == status || Status == ToyVmmStatus.Failed)
            return;
        Status = status;
        StatusChanged?.Invoke(this);
    }
}
