namespace Sim.Vmm.Genode;

public sealed partial class VmConnection
{
    /// <summary>
    /// Genode's <c>Vm_connection::Vcpu</c> (current API): created with its exit handler and exit
    /// configuration, started at once; all state access and resumption go through <see cref="WithState"/>.
    /// </summary>
    public sealed class Vcpu : IDisposable
    {
        private readonly INativeVcpu _native;
        private bool _destroyed;

        public Vcpu(VmConnection vm, VcpuHandlerBase handler, ExitConfig config)
        {
            Handler = handler;
            _native = vm.SessionCurrent.CreateVcpu(handler, config);
            _native.Startup();
        }

        public VcpuHandlerBase Handler { get; }

        public INativeVcpu Native => _native;

        /// <summary>
        /// Runs <paramref name="fn"/> while the vCPU is stopped, on the handler's entrypoint; the vCPU
        /// resumes with the charged state if <paramref name="fn"/> returns true, else it stays stopped.
        /// </summary>
        public void WithState(Func<VcpuState, bool> fn)
        {
            if (!_destroyed)
                _native.WithState(fn);
        }

        public void Dispose()
        {
            if (_destroyed)
                return;
            _destroyed = true;
            _native.Dispose();
        }
    }
}
