namespace Sim.Microkernels.Kernel;

/// <summary>
/// The kernel-memory window has no page left for a paging structure. A kernel model turns it into
/// its own out-of-memory status for the caller.
/// </summary>
public sealed class KernelMemoryExhaustedException(string message) : Exception(message);
