namespace Sim.Vmm.Genode;

/// <summary>
/// A kernel model's VM service: what the composition root registers for the kernel it starts
/// (<c>services.AddSingleton&lt;IVmBackend, NovaVmBackend&gt;()</c>). It opens VM sessions, each the
/// pairing of Genode core's session component with the kernel's client library.
/// </summary>
public interface IVmBackend
{
    /// <summary>
    /// Opens a VM session for the component of <paramref name="env"/>. The session implements
    /// <see cref="IVmSession2019"/>, <see cref="IVmSessionCurrent"/> or both; null when the machine has
    /// no hardware virtualization or the kernel refuses.
    /// </summary>
    IVmSession? OpenSession(IGenodeEnv env, VmSessionArgs args);
}
