using Sim.Cpu;
using Sim.Microkernels.Kernel;
using Sim.Platform;

namespace Sim.Microkernels.Nova;

/// <summary>
/// The NOVA microhypervisor (alex-ab r10, the ABI Genode uses) as a kernel model: PDs, ECs, SCs,
/// portals and semaphores with NOVA's hypercalls and status codes, vCPUs on VT-x or AMD-V whose
/// exits go to the portals at their event base with the MTD-selected state in the handler's UTCB.
/// The roottask's PD and EC exist from boot; code outside every thread (a test, a runner's
/// set-up) calls hypercalls as the roottask.
/// </summary>
public sealed partial class NovaKernel : KernelModel
{
    /// <summary>Exception portals per EC, VM-exit portals per vCPU (<c>NUM_EXC</c>, <c>NUM_VMI</c>).</summary>
    public const int NumExc = 32, NumVmi = 256;

    /// <summary>The synthetic portals: startup (NUM_VMI−2), recall (NUM_VMI−1), SVM invalid state, SVM nested-page fault.</summary>
    public const int PortalStartup = NumVmi - 2, PortalRecall = NumVmi - 1, PortalSvmInvalid = NumVmi - 3, PortalSvmNpt = NumVmi - 4;

    /// <summary>Default time slice of an SC (10 ms at the machine's 1 GHz clock, NOVA's default quantum).</summary>
    public const ulong DefaultQuantum = 10_000_000;

    private readonly Stack<Ec>[] _calls;
    private readonly List<string> _log = new();
    private ushort _nextTag = 1;

    public NovaKernel(Machine machine) : base(machine)
    {
        _calls = new Stack<Ec>[Processors.Count];
        for (var i = 0; i < _calls.Length; i++) _calls[i] = new Stack<Ec>();
        RootPd = new Pd(this, "roottask");
        RootPd.Objects.Insert(RootPdSelector, new Capability(RootPd, ObjectRights.All));
        RootEc = new Ec(this, "roottask", RootPd, Processors[0], EcKind.Global, AllocateUtcb(), 0, null);
        RootPd.Objects.Insert(RootEcSelector, new Capability(RootEc, ObjectRights.All));
        InitialiseVirtualization();
    }

    /// <summary>Where the roottask finds its own PD and EC (Genode's <c>__core_pd_sel</c> convention of low selectors).</summary>
    public const ulong RootPdSelector = 0x1B, RootEcSelector = 0x1C;

    public Pd RootPd { get; }

    public Ec RootEc { get; }

    /// <summary>What the kernel reports about ECs it kills and requests it refuses (NOVA's console).</summary>
    public IReadOnlyList<string> Log => _log;

    internal void Report(string line) => _log.Add(line);

    /// <summary>The EC whose code runs now: the innermost portal call on the running processor, else its thread's EC, else the roottask.</summary>
    public Ec CurrentEc
    {
        get
        {
            if (Running is { } p)
            {
                if (_calls[p.Index].TryPeek(out var call)) return call;
                if (p.Current?.Owner is Ec ec) return ec;
            }
            return RootEc;
        }
    }

    internal void EnterEc(Ec ec) => _calls[ec.Processor.Index].Push(ec);

    internal void LeaveEc(Ec ec) => _calls[ec.Processor.Index].Pop();

    internal IGuestPhysicalSpace CreateGuestSpace() => Vendor == CpuVendor.Intel ? new EptSpace(Memory) : new NptSpace(Memory);

    internal ushort AllocateTag() => _nextTag++;

    /// <summary>A zeroed 4 KiB UTCB from kernel memory.</summary>
    internal ulong AllocateUtcb() => Memory.AllocatePage() ?? throw new InsufficientMemoryException("NOVA: kernel memory exhausted");

    /// <summary>The processor host code charges: the running one, or the first outside every slice.</summary>
    internal KernelProcessor ChargedProcessor => Running ?? Processors[0];

    private void ChargeSyscall()
    {
        var p = ChargedProcessor;
        p.Charge(KernelOperation.SyscallEntry);
        p.Charge(KernelOperation.SyscallExit);
    }
}
