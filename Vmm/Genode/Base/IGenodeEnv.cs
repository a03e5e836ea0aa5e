namespace Sim.Vmm.Genode;

/// <summary>
/// A component's environment (Genode's <c>Env</c>) as a kernel model's base library provides it. Every
/// call is made from a simulated thread of the kernel model (an entrypoint); none blocks a host thread.
/// </summary>
public interface IGenodeEnv
{
    /// <summary>The component's main entrypoint, named "ep", on CPU 0; <see cref="IComponent.Construct"/> runs on it.</summary>
    IEntrypoint Ep { get; }

    /// <summary>Creates an entrypoint with its own simulated thread on <paramref name="cpu"/> (0 ≤ cpu &lt; <see cref="CpuCount"/>).</summary>
    IEntrypoint CreateEntrypoint(string name, int cpu);

    /// <summary>
    /// Allocates a zero-filled RAM dataspace in simulated physical memory, its size rounded up to whole
    /// 4 KiB pages; null when the component's RAM quota is exhausted (Genode's <c>Out_of_ram</c>).
    /// </summary>
    IRamDataspace? AllocRam(ulong size);

    /// <summary>Returns a dataspace to the RAM service; its capability becomes invalid.</summary>
    void FreeRam(IRamDataspace dataspace);

    /// <summary>Opens a session to the timer service (Genode's <c>Timer::Connection</c>).</summary>
    ITimerConnection OpenTimer();

    /// <summary>Writes one line to the component's LOG session (Genode's <c>log()</c>).</summary>
    void Log(string line);

    /// <summary>Writes the line "Warning: " + <paramref name="message"/> (Genode's <c>warning()</c>).</summary>
    void Warning(string message);

    /// <summary>Writes the line "Error: " + <paramref name="message"/> (Genode's <c>error()</c>); a run script fails on any such line.</summary>
    void Error(string message);

    /// <summary>The number of CPUs in the component's affinity space.</summary>
    int CpuCount { get; }

    /// <summary>The machine's hardware virtualization.</summary>
    VirtualizationKind Virtualization { get; }

    /// <summary>RDTSCP executed on the CPU the calling thread runs on: the host TSC and IA32_TSC_AUX (the kernel's CPU number).</summary>
    (ulong Tsc, uint TscAux) Rdtscp();
}
