namespace Sim.Microkernels.Kernel;

/// <summary>Where a simulated thread is in its scheduler's eyes.</summary>
public enum KernelThreadState : byte
{
    /// <summary>Created, not yet given to a scheduler (NOVA: an EC without an SC).</summary>
    Created,

    /// <summary>In its processor's ready queue, or running.</summary>
    Ready,

    /// <summary>Waiting on a kernel object (semaphore, IPC, blocking syscall, timeout).</summary>
    Blocked,

    /// <summary>Ended or killed; never runs again.</summary>
    Dead,
}
