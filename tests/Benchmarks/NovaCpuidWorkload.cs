using Microsoft.Extensions.DependencyInjection;
using Sim.Cpu;
using Sim.Microkernels.Nova.Genode;
using Sim.Platform;
using Sim.Platform.Tracing;
using Sim.Vmm.Genode;

namespace Sim.Benchmarks;

/// <summary>
/// A minimal VMM on Genode's current VM API (VmConnection, Vcpu, a VcpuHandler on the main entrypoint) on the NOVA
/// model: its real-mode guest executes CPUID in a loop; each CPUID exit goes through NOVA's portal and UTCB transfer to
/// the handler, which steps IP over the instruction and resumes. One round trip is one exit, handler and entry.
/// </summary>
public sealed class NovaCpuidWorkload : IDisposable
{
    /// <summary>Guest-physical page of the reset vector; with CS base 0xffff0000 page offset o is IP 0xf000 + o.</summary>
    private const ulong GuestPage = 0xffff_f000;

    private const int ResetVector = 0xff0;

    /// <summary>top: xor ax, ax; cpuid; jmp top (16-bit).</summary>
    private static readonly byte[] CpuidLoop = [0x31, 0xC0, 0x0F, 0xA2, 0xEB, 0xFA];

    private const uint IntelCpuid = 0x0a, AmdCpuid = 0x72;
    private const uint IntelSecondaryUnrestrictedGuest = 1u << 7;
    private const uint AmdPrimaryCpuidIntercept = 1u << 18, AmdSecondaryVmrunIntercept = 1u << 0;

    private readonly Machine _machine;
    private readonly ServiceProvider _services;
    private readonly CpuidVmm _vmm;

    public NovaCpuidWorkload(CpuVendor vendor, int cpus = 1)
    {
        Vendor = vendor;
        _machine = new Machine(new MachineConfig { Cpus = cpus, Vendor = vendor, MemoryBytes = 64UL << 20 });
        _services = new ServiceCollection().AddNova(_machine).BuildServiceProvider();
        var core = _services.GetRequiredService<NovaCore>();
        _vmm = new CpuidVmm(_machine, _services.GetRequiredService<IVmBackend>(), vendor == CpuVendor.Amd);
        core.Launch(_vmm, "cpuid-vmm", _ => { });
        var first = _machine.Run();
        if (first.Outcome != RunOutcome.Stopped || _vmm.Failure != null)
            throw new InvalidOperationException($"the NOVA CPUID workload did not start: {first.Outcome} {first.Message} {_vmm.Failure}");
    }

    public CpuVendor Vendor { get; }

    public Machine Machine => _machine;

    /// <summary>CPUID exits the handler has seen.</summary>
    public ulong Exits => _vmm.Exits;

    /// <summary>Runs the machine until <paramref name="count"/> more CPUID exits were handled; returns the exits seen.</summary>
    public ulong RoundTrips(int count)
    {
        var start = _vmm.Exits;
        _vmm.StopAt = start + (ulong)count;
        var result = _machine.Run();
        if (result.Outcome != RunOutcome.Stopped || _vmm.Failure != null)
            throw new InvalidOperationException($"the NOVA CPUID workload stopped: {result.Outcome} {result.Message} {_vmm.Failure}");
        return _vmm.Exits - start;
    }

    /// <summary>
    /// Runs <paramref name="count"/> round trips with the trace stream on and splits their modelled cycles into phases:
    /// the stamps of GuestEntry, GuestExit (when the hardware exit is done), the portal call's KernelEnter and
    /// KernelLeave, and the processor's cycles at the start and end of the VMM's with_state function; the hardware's
    /// entry and exit are the cost model's figures, the guest's instructions the rest of the entry-to-exit interval.
    /// </summary>
    public RoundTripPhases Phases(int count)
    {
        var listener = new PhaseListener(_machine.Trace.RegisterName("nova.portal"));
        _vmm.Phases = listener;
        _machine.Trace.Attach(listener);
        try
        {
            RoundTrips(count);
        }
        finally
        {
            _machine.Trace.Detach(listener);
            _vmm.Phases = null;
        }
        var costs = _machine.Config.Costs;
        var amd = Vendor == CpuVendor.Amd;
        var n = (double)listener.Complete;
        var entry = (double)(amd ? costs.Vmrun : costs.VmxEntry);
        var exit = (double)(amd ? costs.SvmExit : costs.VmxExit);
        var ipc = (double)costs.Ipc;
        return new RoundTripPhases(
            HardwareExit: exit,
            Kernel: (listener.ExitToCall + listener.LeaveToEntry) / n + ipc,
            UtcbTransfer: listener.CallToHandler / n - ipc,
            Handler: listener.Handler / n,
            Reply: listener.HandlerToLeave / n,
            Entry: entry,
            Guest: listener.EntryToExit / n - entry - exit);
    }

    /// <summary>Modelled cycles per round trip by phase; <see cref="Reply"/> is the reply's IPC and its UTCB transfer back into the VMCS/VMCB.</summary>
    public readonly record struct RoundTripPhases(double HardwareExit, double Kernel, double UtcbTransfer, double Handler, double Reply, double Entry, double Guest)
    {
        public double Total => HardwareExit + Kernel + UtcbTransfer + Handler + Reply + Entry + Guest;
    }

    /// <summary>Sums the intervals between one round trip's stamps; a round trip counts once all of them were seen.</summary>
    private sealed class PhaseListener(int portalCall) : ITraceListener
    {
        private ulong _entry, _exit, _call, _handlerStart, _handlerEnd, _leave;
        private int _step;

        public ulong EntryToExit, ExitToCall, CallToHandler, Handler, HandlerToLeave, LeaveToEntry;
        public ulong Complete;

        public void OnEvent(in TraceEvent e)
        {
            switch (e.Kind)
            {
                case TraceEventKind.GuestEntry:
                    if (_step == 5)
                    {
                        EntryToExit += _exit - _entry;
                        ExitToCall += _call - _exit;
                        CallToHandler += _handlerStart - _call;
                        Handler += _handlerEnd - _handlerStart;
                        HandlerToLeave += _leave - _handlerEnd;
                        LeaveToEntry += e.Cycle - _leave;
                        Complete++;
                    }
                    _entry = e.Cycle;
                    _step = 1;
                    break;
                case TraceEventKind.GuestExit when _step == 1:
                    _exit = e.Cycle;
                    _step = 2;
                    break;
                case TraceEventKind.KernelEnter when _step == 2 && e.NameId == portalCall:
                    _call = e.Cycle;
                    _step = 3;
                    break;
                case TraceEventKind.KernelLeave when _step == 4 && e.NameId == portalCall:
                    _leave = e.Cycle;
                    _step = 5;
                    break;
            }
        }

        public void HandlerStarted(ulong cycle)
        {
            if (_step != 3) return;
            _handlerStart = cycle;
        }

        public void HandlerEnded(ulong cycle)
        {
            if (_step != 3) return;
            _handlerEnd = cycle;
            _step = 4;
        }
    }

    public void Dispose()
    {
        _services.Dispose();
        _machine.Dispose();
    }

    /// <summary>The VMM component: one vCPU whose handler runs on the main entrypoint.</summary>
    private sealed class CpuidVmm(Machine machine, IVmBackend backend, bool svm) : IComponent
    {
        private VmConnection.Vcpu _vcpu = null!;
        private Func<VcpuState, bool> _handleExit = null!;

        public ulong Exits;

        /// <summary>The exit count at which the handler stops the machine; the startup exit stops it at once.</summary>
        public ulong StopAt;

        public string? Failure;

        public PhaseListener? Phases;

        public void Construct(IGenodeEnv env)
        {
            var vm = new VmConnection(env, backend);
            var ram = env.AllocRam(0x1000) ?? throw new InvalidOperationException("no RAM for the guest");
            var page = new byte[0x1000];
            CpuidLoop.CopyTo(page.AsSpan(ResetVector));
            ram.Write(0, page);
            if (vm.Attach(ram, GuestPage) != AttachResult.Ok) throw new InvalidOperationException("attach failed");
            _handleExit = HandleExit;
            var handler = new VcpuHandler<CpuidVmm>(env.Ep, this, static v => v._vcpu.WithState(v._handleExit));
            _vcpu = new VmConnection.Vcpu(vm, handler, ExitConfig.Default);
        }

        private bool HandleExit(VcpuState state)
        {
            var cpu = machine.Processors[0];
            Phases?.HandlerStarted(cpu.Cycles);
            var resume = Handle(state);
            Phases?.HandlerEnded(cpu.Cycles);
            return resume;
        }

        private bool Handle(VcpuState state)
        {
            var exit = state.ExitReason;
            state.Discharge();
            if (exit == VmExitReason.Startup)
            {
                CpuInit(state);
                machine.Control.RequestExit(RunOutcome.Stopped, 0, "started");
                return true;
            }
            if (exit != (svm ? AmdCpuid : IntelCpuid))
            {
                Failure = $"unexpected exit {exit:x} at ip {state.Ip.Value:x}";
                machine.Control.RequestExit(RunOutcome.Stopped, 1, Failure);
                return false;
            }
            // NOVA gives no instruction length on SVM; CPUID is 2 bytes.
            state.Ip.Charge(state.Ip.Value + (svm ? 2 : state.IpLen.Value));
            if (++Exits == StopAt) machine.Control.RequestExit(RunOutcome.Stopped, 0, "round trips done");
            return true;
        }

        /// <summary>The reset state, as the toy VMM sets it: real mode at F000:FFF0.</summary>
        private void CpuInit(VcpuState state)
        {
            state.Flags.Charge(2);
            state.Ip.Charge(0xfff0);
            state.Cr0.Charge(0x10);
            var code = new Segment(0xf000, 0x93, 0xffff, 0xffff0000);
            var data = new Segment(0, 0x93, 0xffff, 0);
            state.Cs.Charge(code);
            state.Ss.Charge(data);
            state.Es.Charge(data);
            state.Ds.Charge(data);
            state.Fs.Charge(data);
            state.Gs.Charge(data);
            state.Tr.Charge(new Segment(0, 0x8b, 0xffff, 0));
            state.Ldtr.Charge(new Segment(0, 0x1000, 0xffff, 0));
            state.Gdtr.Charge(new VcpuState.Range(0, 0xffff));
            state.Idtr.Charge(new VcpuState.Range(0, 0xffff));
            state.Dr7.Charge(0x400);
            if (svm)
            {
                state.CtrlPrimary.Charge(AmdPrimaryCpuidIntercept);
                state.CtrlSecondary.Charge(AmdSecondaryVmrunIntercept);
            }
            else
            {
                state.CtrlPrimary.Charge(0);
                state.CtrlSecondary.Charge(IntelSecondaryUnrestrictedGuest);
            }
        }
    }
}
