namespace Sim.Vmm.Genode;

/// <summary>
/// Genode's <c>Vm_connection::Exit_config</c>: empty. By default all of <see cref="VcpuState"/> is
/// transferred on each exit; the configuration is reserved for omitting parts of it.
/// </summary>
public sealed record ExitConfig
{
    public static ExitConfig Default { get; } = new();
}
